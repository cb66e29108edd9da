// Real WebSocket clients (Poco) against a real Poco HTTPServer on an ephemeral loopback port.
#include <log_bus.h>
#include <ws_logs_handler.h>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <thread>

using namespace omnihost::log_bus;
using nlohmann::json;
using Poco::Net::WebSocket;
using namespace std::chrono_literals;

namespace {

// A real server with its own thread pool (Poco's default pool holds only 16 threads and every
// WebSocket client keeps one for its whole connection).
struct test_server {
    explicit test_server(bus &b, ws_options opts = {})
        : pool(2, 64),
          socket(Poco::Net::SocketAddress("127.0.0.1", 0)),
          http(new ws_logs_handler_factory(b, std::move(opts)), pool, socket, make_params()) {
        http.start();
    }
    ~test_server() { http.stopAll(true); }
    static Poco::Net::HTTPServerParams::Ptr make_params() {
        Poco::Net::HTTPServerParams::Ptr p = new Poco::Net::HTTPServerParams;
        p->setMaxThreads(64);
        p->setMaxQueued(64);
        return p;
    }
    uint16_t port() const { return socket.address().port(); }
    Poco::ThreadPool pool;
    Poco::Net::ServerSocket socket;
    Poco::Net::HTTPServer http;
};

std::unique_ptr<WebSocket> connect(uint16_t port, const std::string &uri = ws_logs_path, int *status = nullptr) {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, uri, Poco::Net::HTTPMessage::HTTP_1_1);
    Poco::Net::HTTPResponse response;
    try {
        auto ws = std::make_unique<WebSocket>(session, request, response);
        ws->setReceiveTimeout(Poco::Timespan(10, 0));
        if (status) *status = response.getStatus();
        return ws;
    } catch (const Poco::Net::WebSocketException &) {
        if (status) *status = response.getStatus();
        return nullptr;
    }
}

struct frame_in {
    int opcode = 0;
    std::string payload;
};

frame_in receive(WebSocket &ws) {
    std::vector<char> buf(1 << 16);
    int flags = 0;
    int n = ws.receiveFrame(buf.data(), static_cast<int>(buf.size()), flags);
    return {flags & WebSocket::FRAME_OP_BITMASK, std::string(buf.data(), n > 0 ? n : 0)};
}

// Next text frame as JSON, skipping pings.
json receive_json(WebSocket &ws) {
    for (;;) {
        frame_in f = receive(ws);
        if (f.opcode == WebSocket::FRAME_OP_PING) continue;
        REQUIRE(f.opcode == WebSocket::FRAME_OP_TEXT);
        return json::parse(f.payload);
    }
}

std::pair<int, std::string> plain_get(uint16_t port, const std::string &uri) {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, uri, Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    return {response.getStatus(), body};
}

bool wait_for(const std::function<bool()> &cond, std::chrono::seconds limit = 30s) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (cond()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return cond();
}

}  // namespace

TEST_SUITE("websocket") {

TEST_CASE("a client gets the backlog, then live frames, seq strictly increasing") {
    bus b;
    test_server server(b);
    for (int i = 1; i <= 5; ++i) b.publish_log(log_level::info, "host", "before " + std::to_string(i));
    auto ws = connect(server.port());
    REQUIRE(ws);
    uint64_t last = 0;
    for (int i = 1; i <= 5; ++i) {
        auto j = receive_json(*ws);
        CHECK(j["type"] == "log");
        CHECK(j["message"] == "before " + std::to_string(i));
        CHECK(j["seq"].get<uint64_t>() > last);
        last = j["seq"];
    }
    REQUIRE(wait_for([&] { return b.stats().subscribers == 1; }));
    b.publish_progress("job-1", 1, 4, "denoise", "step 1/4");
    b.publish_log(log_level::error, "video_diffusion", "live");
    auto p = receive_json(*ws);
    CHECK(p["type"] == "progress");
    CHECK(p["job_id"] == "job-1");
    CHECK(p["seq"].get<uint64_t>() == last + 1);
    auto l = receive_json(*ws);
    CHECK(l["message"] == "live");
    CHECK(l["level"] == "error");
    CHECK(l["seq"].get<uint64_t>() == last + 2);
    ws->shutdown();
}

TEST_CASE("a closed client is removed from the bus") {
    bus b;
    test_server server(b);
    auto ws = connect(server.port());
    REQUIRE(ws);
    REQUIRE(wait_for([&] { return b.stats().subscribers == 1; }));
    ws->shutdown();  // close handshake
    CHECK(receive(*ws).opcode == WebSocket::FRAME_OP_CLOSE);
    CHECK(wait_for([&] { return b.stats().subscribers == 0; }));

    auto abrupt = connect(server.port());
    REQUIRE(abrupt);
    REQUIRE(wait_for([&] { return b.stats().subscribers == 1; }));
    abrupt->close();  // TCP close without a close frame
    CHECK(wait_for([&] { return b.stats().subscribers == 0; }));
}

TEST_CASE("keep-alive pings arrive and client pings are answered") {
    bus b;
    ws_options opts;
    opts.ping_interval = 50ms;
    test_server server(b, opts);
    auto ws = connect(server.port());
    REQUIRE(ws);
    CHECK(receive(*ws).opcode == WebSocket::FRAME_OP_PING);
    ws->sendFrame("abc", 3, int(WebSocket::FRAME_FLAG_FIN) | int(WebSocket::FRAME_OP_PING));
    frame_in f;
    do f = receive(*ws);
    while (f.opcode == WebSocket::FRAME_OP_PING);
    CHECK(f.opcode == WebSocket::FRAME_OP_PONG);
    CHECK(f.payload == "abc");
}

TEST_CASE("the auth hook refuses with 401 before the upgrade") {
    bus b;
    ws_options opts;
    opts.authorize = [](const Poco::Net::HTTPServerRequest &req) -> std::string {
        if (req.get("Authorization", "") == "Bearer secret" || req.getURI().find("token=secret") != std::string::npos)
            return "";
        return "missing or wrong token";
    };
    test_server server(b, opts);
    int status = 0;
    CHECK(connect(server.port(), ws_logs_path, &status) == nullptr);
    CHECK(status == 401);
    auto [code, body] = plain_get(server.port(), ws_logs_path);
    CHECK(code == 401);
    CHECK(json::parse(body)["error"] == "missing or wrong token");
    auto ws = connect(server.port(), std::string(ws_logs_path) + "?token=secret", &status);
    CHECK(ws != nullptr);
    CHECK(status == 101);
}

TEST_CASE("a plain GET is a 400 naming the handshake; other paths are 404") {
    bus b;
    test_server server(b);
    auto [code, body] = plain_get(server.port(), ws_logs_path);
    CHECK(code == 400);
    auto j = json::parse(body);
    CHECK(j["success"] == false);
    CHECK(j["error"].get<std::string>().find("not a valid WebSocket handshake") == 0);
    auto [code404, body404] = plain_get(server.port(), "/ws/other");
    CHECK(code404 == 404);
    CHECK(json::parse(body404)["error"] == "not found: /ws/other");
}

TEST_CASE("shutdown closes every client with 1001") {
    bus b;
    test_server server(b);
    auto ws = connect(server.port());
    REQUIRE(ws);
    REQUIRE(wait_for([&] { return b.stats().subscribers == 1; }));
    b.close_all_subscribers();
    frame_in f = receive(*ws);
    CHECK(f.opcode == WebSocket::FRAME_OP_CLOSE);
    REQUIRE(f.payload.size() >= 2);
    CHECK(((static_cast<unsigned char>(f.payload[0]) << 8) | static_cast<unsigned char>(f.payload[1])) == 1001);
}

TEST_CASE("several clients each get every frame in order") {
    bus b;
    test_server server(b);
    std::vector<std::unique_ptr<WebSocket>> clients;
    for (int i = 0; i < 8; ++i) clients.push_back(connect(server.port()));
    REQUIRE(wait_for([&] { return b.stats().subscribers == 8; }));
    for (int i = 0; i < 300; ++i) b.publish_log(log_level::info, "host", std::to_string(i));
    for (auto &ws : clients) {
        REQUIRE(ws);
        for (int i = 0; i < 300; ++i) {
            auto j = receive_json(*ws);
            CHECK(j["seq"] == i + 1);
            CHECK(j["message"] == std::to_string(i));
        }
    }
}

TEST_CASE("a client that stops reading loses frames, is told how many, and never blocks producers") {
    bus b(bus_options{100, 64, log_level::trace});
    ws_options opts;
    opts.send_timeout = 60000ms;
    test_server server(b, opts);
    auto ws = connect(server.port());
    REQUIRE(ws);
    REQUIRE(wait_for([&] { return b.stats().subscribers == 1; }));
    // Far more than the socket buffers plus the queue can hold while the client does not read.
    const std::string filler(400, 'x');
    constexpr int producers = 4, per_producer = 50000;
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&] {
            for (int i = 0; i < per_producer; ++i) b.publish_log(log_level::info, "flood", filler);
        });
    for (auto &t : threads) t.join();
    const uint64_t total = uint64_t(producers) * per_producer;
    REQUIRE(b.stats().published == total);
    CHECK(b.stats().dropped_total > 0);

    uint64_t frames = 0, dropped = 0, last = 0, notes = 0;
    bool ordered = true;
    while (frames + dropped < total) {
        frame_in f = receive(*ws);
        if (f.opcode == WebSocket::FRAME_OP_PING) continue;
        REQUIRE(f.opcode == WebSocket::FRAME_OP_TEXT);
        auto j = json::parse(f.payload);
        if (j["type"] == "dropped") {
            dropped += j["count"].get<uint64_t>();
            ++notes;
        } else {
            ordered &= j["seq"].get<uint64_t>() > last;
            last = j["seq"];
            ++frames;
        }
    }
    CHECK(ordered);
    CHECK(notes >= 1);
    CHECK(frames + dropped == total);
    CHECK(dropped == b.stats().dropped_total);
    MESSAGE("slow client: " << frames << " frames delivered, " << dropped << " dropped in " << notes << " notes");
}

}  // TEST_SUITE
