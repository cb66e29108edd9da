// http_server.h — Poco's HTTP server with a cap on open connections that answers 503 instead of
// going silent.
//
// Why not Poco::Net::HTTPServer with setMaxThreads/setMaxQueued alone: a connection holds a worker
// thread for as long as it is open (keep-alive waits, WebSocket viewers, a running generate), and
// when every thread is taken Poco queues new connections unanswered, then drops them. Here every
// open connection is counted; past `max_connections` a new one is answered
// "503 Service Unavailable" by one of a few spare threads that no counted connection can take, and
// closed. So the host always says it is busy, and answers again as soon as a connection ends.
#pragma once

#include "core/stoppable_handler_factory.h"

#include <atomic>
#include <memory>

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/ThreadPool.h>

namespace omnihost {

// Threads kept free of counted connections, for the 503 answers.
inline constexpr int kSpareHttpThreads = 4;

class capped_http_server : public Poco::Net::TCPServer {
public:
    // `params` should allow max_connections + kSpareHttpThreads threads; `pool` likewise.
    capped_http_server(Poco::SharedPtr<stoppable_handler_factory> factory, Poco::ThreadPool &pool,
                     const Poco::Net::ServerSocket &socket, Poco::Net::HTTPServerParams::Ptr params,
                     int max_connections);
    ~capped_http_server() override;

    // stop() and, with abort_current, shut down the connections still open.
    void stop_all(bool abort_current);

    int open_connections() const { return open_->load(); }

private:
    capped_http_server(Poco::SharedPtr<stoppable_handler_factory> factory, Poco::ThreadPool &pool,
                     const Poco::Net::ServerSocket &socket, Poco::Net::HTTPServerParams::Ptr params,
                     int max_connections, std::shared_ptr<std::atomic<int>> open);

    Poco::SharedPtr<stoppable_handler_factory> factory_;
    std::shared_ptr<std::atomic<int>> open_;
};

} // namespace omnihost
