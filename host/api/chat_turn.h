// chat_turn.h — a streamed chat (the playground's /api/omni/chat, /v1/chat/completions) is not a
// stored job: its events go to its own connection. It still waits its turn in the job queue's FIFO
// like one, instead of being refused while a job or another chat holds the slot.
#pragma once

#include <string>

#include "jobs/job_service.h"

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
} // namespace Poco::Net

namespace omnihost {

// Blocks until it is the chat's turn (http_status 200; `turn` is held until the chat ends), or
// returns the refusal: 429 with retry_after_s when --queue-depth calls already wait, 503 when the
// host is stopping, 499 when the client hung up while waiting. With no job queue (`jobs` null) it
// returns 200 at once and no turn. `job_id` names the call in the log.
jobs::turn_result wait_chat_turn(jobs::job_service *jobs, Poco::Net::HTTPServerRequest &request,
                                 const std::string &job_id);

// Sets Retry-After on the response of a 429 refusal (at least 1 s); nothing otherwise.
void set_retry_after(Poco::Net::HTTPServerResponse &response, const jobs::turn_result &refused);

} // namespace omnihost
