// WebSocket endpoint /ws/omni/logs: streams the log bus to one client.
//
// On connect the client receives the backlog, then live frames (JSON text frames as in the API
// contract), {"type":"dropped","count":N} where it fell behind, and a ping every ping_interval so
// idle proxies keep the connection. A client that closes, stops answering (send timeout) or
// breaks the connection is unsubscribed and its handler thread returns.
//
// One Poco server thread is held per connected client for the connection's lifetime: size
// HTTPServerParams::setMaxThreads() for the number of viewers you expect plus the API threads.
#pragma once

#include "log_bus.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace Poco::Net { class HTTPServerRequest; }

namespace omnihost::log_bus {

inline constexpr const char *ws_logs_path = "/ws/omni/logs";

struct ws_options {
    std::chrono::milliseconds ping_interval{15000};
    // A send that cannot complete in this time means a dead or stuck client: drop the connection.
    std::chrono::milliseconds send_timeout{10000};
    // How long the handler waits for a frame before checking for client messages/pings.
    std::chrono::milliseconds poll_interval{100};
    bool with_backlog = true;
    // Optional auth hook, called before the upgrade. Return "" to accept, or an error message to
    // refuse with 401 {"success":false,"error":message}. Unset: everyone is accepted (the host
    // may equally check the token itself before calling make_ws_logs_handler).
    std::function<std::string(const Poco::Net::HTTPServerRequest &)> authorize;
    // The viewers connected now, shared by every handler made with these options (create it once
    // and pass the same options). With max_clients > 0, a viewer past the cap is refused with 503
    // {"success":false,"error":...} before the upgrade, so a flood of viewers cannot take every
    // server thread. Unset: not counted, no cap.
    std::shared_ptr<std::atomic<int>> clients;
    int max_clients = 0;
};

// True when the request asks for a WebSocket upgrade (Upgrade: websocket, case-insensitive).
bool is_websocket_upgrade(const Poco::Net::HTTPServerRequest &request);

// A handler for one /ws/omni/logs request; Poco deletes it after handleRequest. A request that is
// not a valid WebSocket handshake gets 400 with a JSON error. The bus must outlive the handler.
Poco::Net::HTTPRequestHandler *make_ws_logs_handler(bus &source, const ws_options &options = {});

// A complete factory serving only /ws/omni/logs (404 JSON elsewhere). For tests, benchmarks and
// hosts that chain factories.
class ws_logs_handler_factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit ws_logs_handler_factory(bus &source, ws_options options = {});
    Poco::Net::HTTPRequestHandler *createRequestHandler(
        const Poco::Net::HTTPServerRequest &request) override;

private:
    bus &bus_;
    ws_options options_;
};

}  // namespace omnihost::log_bus
