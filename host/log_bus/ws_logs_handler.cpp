// /ws/omni/logs: one handler (one Poco server thread) per connected client. The handler is the only
// thread touching its socket, so sending, answering pings and noticing a close need no locks; the
// bus side is a bounded queue, so this thread being slow only costs this client frames.
#include "ws_logs_handler.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/String.h>
#include <nlohmann/json.hpp>

#include <array>

namespace omnihost::log_bus {

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;
using Poco::Net::WebSocket;

void send_json_error(HTTPServerResponse &response, HTTPResponse::HTTPStatus status,
                     const std::string &message) {
    if (response.sent()) return;
    nlohmann::json body = {{"success", false}, {"error", message}};
    std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    response.setStatusAndReason(status);
    response.setContentType("application/json");
    response.setContentLength(static_cast<std::streamsize>(text.size()));
    response.send() << text;
}

constexpr int frame_flags(int fin, int opcode) { return fin | opcode; }  // Poco mixes two enums here
const int pong_flags = frame_flags(WebSocket::FRAME_FLAG_FIN, WebSocket::FRAME_OP_PONG);
const int ping_flags = frame_flags(WebSocket::FRAME_FLAG_FIN, WebSocket::FRAME_OP_PING);

// The most frames sent back to back before looking at what the client sent.
constexpr size_t max_batch = 128;

class ws_logs_handler final : public Poco::Net::HTTPRequestHandler {
public:
    ws_logs_handler(bus &source, ws_options options) : bus_(source), options_(std::move(options)) {}

    void handleRequest(HTTPServerRequest &request, HTTPServerResponse &response) override {
        try {
            if (options_.authorize) {
                std::string refusal = options_.authorize(request);
                if (!refusal.empty()) {
                    send_json_error(response, HTTPResponse::HTTP_UNAUTHORIZED, refusal);
                    return;
                }
            }
            // Counted for the whole life of the connection; released on every way out.
            struct seat {
                std::atomic<int> *count = nullptr;
                ~seat() { if (count) count->fetch_sub(1); }
            } held;
            if (options_.clients) {
                const int before = options_.clients->fetch_add(1);
                held.count = options_.clients.get();
                if (options_.max_clients > 0 && before >= options_.max_clients) {
                    send_json_error(response, HTTPResponse::HTTP_SERVICE_UNAVAILABLE,
                                    "too many log viewers: " + std::to_string(options_.max_clients) +
                                        " are connected (--max-ws-clients); try again later");
                    return;
                }
            }
            std::unique_ptr<WebSocket> ws;
            try {
                ws = std::make_unique<WebSocket>(request, response);
            } catch (const Poco::Net::WebSocketException &e) {
                send_json_error(response, HTTPResponse::HTTP_BAD_REQUEST,
                                "not a valid WebSocket handshake: " + e.message());
                return;
            }
            stream(*ws);
        } catch (...) {
            // A broken connection ends this client only; never let it reach the server thread.
        }
    }

private:
    void stream(WebSocket &ws) {
        ws.setSendTimeout(Poco::Timespan(options_.send_timeout.count() * 1000));
        ws.setReceiveTimeout(Poco::Timespan(options_.send_timeout.count() * 1000));
        auto sub = bus_.subscribe(options_.with_backlog);
        auto last_ping = std::chrono::steady_clock::now();
        std::array<char, 4096> buf{};
        std::vector<delivery> batch;
        batch.reserve(max_batch);
        for (;;) {
            batch.clear();
            sub->next_batch(batch, max_batch, options_.poll_interval);
            for (const auto &d : batch) {
                const std::string &text = d.text();
                ws.sendFrame(text.data(), static_cast<int>(text.size()), WebSocket::FRAME_TEXT);
            }
            if (sub->closed() && sub->queued() == 0) {  // the bus is shutting down
                ws.shutdown(WebSocket::WS_ENDPOINT_GOING_AWAY, "server shutting down");
                return;
            }
            if (ws.poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR)) {
                int flags = 0;
                int n = ws.receiveFrame(buf.data(), static_cast<int>(buf.size()), flags);
                int opcode = flags & WebSocket::FRAME_OP_BITMASK;
                if (n <= 0 && flags == 0) return;  // peer closed the TCP connection
                if (opcode == WebSocket::FRAME_OP_CLOSE) {
                    ws.shutdown();  // answer the close handshake
                    return;
                }
                if (opcode == WebSocket::FRAME_OP_PING) {
                    ws.sendFrame(buf.data(), n > 0 ? n : 0, pong_flags);
                }
                // Text/binary/pong from the client carry nothing for us: ignored.
            }
            auto now = std::chrono::steady_clock::now();
            if (now - last_ping >= options_.ping_interval) {
                ws.sendFrame("", 0, ping_flags);
                last_ping = now;
            }
        }
    }

    bus &bus_;
    ws_options options_;
};

class not_found_handler final : public Poco::Net::HTTPRequestHandler {
public:
    void handleRequest(HTTPServerRequest &request, HTTPServerResponse &response) override {
        send_json_error(response, HTTPResponse::HTTP_NOT_FOUND, "not found: " + request.getURI());
    }
};

}  // namespace

bool is_websocket_upgrade(const HTTPServerRequest &request) {
    return Poco::icompare(request.get("Upgrade", ""), "websocket") == 0;
}

Poco::Net::HTTPRequestHandler *make_ws_logs_handler(bus &source, const ws_options &options) {
    return new ws_logs_handler(source, options);
}

ws_logs_handler_factory::ws_logs_handler_factory(bus &source, ws_options options)
    : bus_(source), options_(std::move(options)) {}

Poco::Net::HTTPRequestHandler *ws_logs_handler_factory::createRequestHandler(const HTTPServerRequest &request) {
    std::string path = request.getURI();
    if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
    if (path == ws_logs_path) return make_ws_logs_handler(bus_, options_);
    return new not_found_handler();
}

}  // namespace omnihost::log_bus
