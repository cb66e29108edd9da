#include "api/chat_turn.h"

#include <algorithm>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "api/client_watch.h"

namespace omnihost {

jobs::turn_result wait_chat_turn(jobs::job_service *jobs, Poco::Net::HTTPServerRequest &request,
                                 const std::string &job_id) {
    if (!jobs) return {};
    const int fd = request_socket_fd(request);
    return jobs->wait_turn("chat " + job_id, [fd] { return fd >= 0 && client_has_gone(fd); });
}

void set_retry_after(Poco::Net::HTTPServerResponse &response, const jobs::turn_result &refused) {
    if (refused.http_status == 429) response.set("Retry-After", std::to_string(std::max(1, refused.retry_after_s)));
}

} // namespace omnihost
