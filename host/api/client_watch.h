// client_watch.h — a synchronous generate whose client went away is cancelled, not left running
// for nobody. The HTTP thread waiting for the slot's answer also watches its connection: a peer
// that closed (EOF / hang-up / reset) cancels the job once; the wait then goes on until the slot
// answers (the slot's cancel deadline bounds it), so the job is never left behind half-owned.
#pragma once

#include <chrono>
#include <future>
#include <string>

#include "slot/runtime_slot.h"

namespace Poco::Net {
class HTTPServerRequest;
} // namespace Poco::Net

namespace omnihost {

// True when the peer of `fd` has closed or reset the connection. Never blocks, never reads:
// bytes a client pipelined after its request are left where they are.
bool client_has_gone(int fd);

// The socket descriptor behind a server request, or -1 when it cannot be had.
int request_socket_fd(Poco::Net::HTTPServerRequest &request);

// Cancels a job once its client has gone; check() never blocks, for loops that wake up often
// anyway (the SSE chat pump).
class disconnect_watch {
public:
    disconnect_watch(Poco::Net::HTTPServerRequest &request, runtime_slot &slot, std::string job_id);
    void check();
    bool cancelled() const { return cancelled_; }

private:
    int fd_;
    runtime_slot &slot_;
    std::string job_id_;
    bool cancelled_ = false;
};

// Waits for `pending`; if the client disconnects meanwhile, cancels `job_id` on `slot` and keeps
// waiting for the (then cancelled) reply. `poll_every` bounds how late a disconnect is noticed.
generate_reply wait_cancelling_on_disconnect(
    Poco::Net::HTTPServerRequest &request, runtime_slot &slot, std::future<generate_reply> &pending,
    const std::string &job_id, std::chrono::milliseconds poll_every = std::chrono::milliseconds(100));

} // namespace omnihost
