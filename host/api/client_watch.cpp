#include "api/client_watch.h"

#include <cerrno>

#include <poll.h>
#include <sys/socket.h>

#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/StreamSocket.h>
#include <spdlog/spdlog.h>

namespace omnihost {

bool client_has_gone(int fd) {
    if (fd < 0) return false;
    // POLLRDHUP: the peer shut its side (close() or shutdown(SHUT_WR)); POLLHUP/POLLERR: reset or
    // fully closed. POLLIN is not asked for, so pipelined bytes never make this spin or lie.
    pollfd watch{fd, POLLRDHUP, 0};
    int ready;
    do {
        ready = ::poll(&watch, 1, 0);
    } while (ready < 0 && errno == EINTR);
    if (ready <= 0) return false;
    return (watch.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

int request_socket_fd(Poco::Net::HTTPServerRequest &request) {
    auto *impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl *>(&request);
    if (!impl) return -1;
    try {
        return static_cast<int>(impl->socket().impl()->sockfd());
    } catch (...) {
        return -1;
    }
}

disconnect_watch::disconnect_watch(Poco::Net::HTTPServerRequest &request, runtime_slot &slot, std::string job_id)
    : fd_(request_socket_fd(request)), slot_(slot), job_id_(std::move(job_id)) {}

void disconnect_watch::check() {
    if (cancelled_ || !client_has_gone(fd_)) return;
    cancelled_ = true;
    spdlog::info("job {}: the client disconnected; cancelling it", job_id_);
    slot_.cancel(job_id_);
}

generate_reply wait_cancelling_on_disconnect(Poco::Net::HTTPServerRequest &request, runtime_slot &slot,
                                            std::future<generate_reply> &pending, const std::string &job_id,
                                            std::chrono::milliseconds poll_every) {
    disconnect_watch client(request, slot, job_id);
    while (pending.wait_for(poll_every) != std::future_status::ready) client.check();
    return pending.get();
}

} // namespace omnihost
