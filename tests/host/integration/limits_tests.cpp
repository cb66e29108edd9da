// Limits only the operator raises, against the real binary: generation limits refuse larger
// requests naming the field; a full house of connections or log viewers gets 503 and the API
// answers again (or meanwhile, for viewers) without a restart.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <thread>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/WebSocket.h>

#include "host_process.h"

using namespace omnihost_test;
using nlohmann::json;

namespace {

// GET /api/omni/status until `want` (the status code) or the timeout; returns the last answer.
http_result poll_status_code(int port, int want, double seconds = 20) {
    http_result last;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            last = get(port, "/api/omni/status");
        } catch (const Poco::Exception &e) {
            last = http_result{};
            last.body = e.displayText();
        }
        if (last.status == want) return last;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return last;
}

struct log_viewer {
    Poco::Net::HTTPClientSession session;
    Poco::Net::HTTPRequest request{Poco::Net::HTTPRequest::HTTP_GET, "/ws/omni/logs", Poco::Net::HTTPMessage::HTTP_1_1};
    Poco::Net::HTTPResponse response;
    std::unique_ptr<Poco::Net::WebSocket> ws;
    int status = 0;

    explicit log_viewer(int port) : session("127.0.0.1", static_cast<Poco::UInt16>(port)) {
        try {
            ws = std::make_unique<Poco::Net::WebSocket>(session, request, response);
            status = 101;
        } catch (const Poco::Net::WebSocketException &) {
            status = static_cast<int>(response.getStatus());
        }
    }
};

} // namespace

TEST_SUITE("http_limits") {

TEST_CASE("operator limits: a request may ask for less, never more; the field is named") {
    host_process host({.extra_args = {"--max-steps", "3", "--max-pixels", "1024", "--max-frames", "12",
                                     "--max-duration", "1.5", "--max-samples", "1"}});
    const int port = host.port();
    const json limits = get(port, "/api/omni/status").json()["limits"];
    CHECK(limits["max_steps"] == 3);
    CHECK(limits["max_pixels"] == 1024);
    CHECK(limits["max_frames"] == 12);
    CHECK(limits["max_duration"] == 1.5);
    CHECK(limits["max_samples"] == 1);
    REQUIRE(post(port, "/api/omni/start", {{"model", "t/video"}, {"model_type", "video"}}).status == 202);
    REQUIRE(wait_for_state(port, "ready")["state"] == "ready");

    struct over_limit_case {
        json body;
        const char *field;
        const char *option;
    };
    // Each is within the plugin's own schema (the test plugin allows 50 steps, 256x256, 10 s).
    const std::vector<over_limit_case> cases = {
        {{{"prompt", "x"}, {"num_inference_steps", 4}}, "num_inference_steps", "--max-steps"},
        {{{"prompt", "x"}, {"height", 64}, {"width", 32}}, "height", "--max-pixels"},
        {{{"prompt", "x"}, {"duration", 2}, {"fps", 1}}, "duration", "--max-duration"},
        {{{"prompt", "x"}, {"duration", 1.5}, {"fps", 9}}, "duration", "--max-frames"},
    };
    for (const auto &c : cases) {
        CAPTURE(c.body.dump());
        const auto r = post(port, "/api/omni/generate-video", c.body);
        CHECK(r.status == 400);
        CHECK(r.json().value("field", "") == c.field);
        CHECK(r.json().value("error", "").find(c.option) != std::string::npos);
    }
    // At the limits exactly: served.
    const auto ok = post(port, "/api/omni/generate-video",
                         {{"prompt", "x"}, {"num_inference_steps", 3}, {"height", 32}, {"width", 32},
                          {"duration", 1.5}, {"fps", 8}});
    CHECK(ok.status == 200);
    CHECK(ok.json()["success"] == true);
}

TEST_CASE("operator limits stay within range; --max-ws-clients must leave room for the API") {
    // The host refuses to start (exit 64, the message on stderr) rather than run with a bad limit.
    auto refusal_of = [](std::vector<std::string> args) {
        try {
            host_process host({.extra_args = std::move(args)});
        } catch (const std::runtime_error &e) {
            return std::string(e.what());
        }
        return std::string("started");
    };
    CHECK(refusal_of({"--max-steps", "0"}).find("--max-steps") != std::string::npos);
    CHECK(refusal_of({"--max-duration", "-1"}).find("--max-duration") != std::string::npos);
    CHECK(refusal_of({"--max-pixels", "lots"}).find("--max-pixels") != std::string::npos);
    CHECK(refusal_of({"--max-connections", "8", "--max-ws-clients", "8"}).find("--max-ws-clients") != std::string::npos);
}

TEST_CASE("connection cap: past --max-connections new connections get 503, then the API answers again") {
    host_process host({.extra_args = {"--max-connections", "4", "--max-ws-clients", "2"}});
    const int port = host.port();
    const Poco::Net::SocketAddress address("127.0.0.1", static_cast<Poco::UInt16>(port));
    // Four connections that never send a request: each holds a server thread (slowloris).
    std::vector<std::unique_ptr<Poco::Net::StreamSocket>> idle;
    for (int i = 0; i < 4; ++i) idle.push_back(std::make_unique<Poco::Net::StreamSocket>(address));
    const http_result busy = poll_status_code(port, 503);
    REQUIRE_MESSAGE(busy.status == 503, busy.body);
    CHECK(busy.json()["success"] == false);
    CHECK(busy.json()["error"].get<std::string>().find("--max-connections") != std::string::npos);
    CHECK(busy.headers.count("Content-Security-Policy"));
    CHECK(busy.headers.count("Retry-After"));
    // A flood past the cap is answered too, one 503 after another, and never kills the host.
    for (int i = 0; i < 20; ++i) CHECK(get(port, "/api/omni/status").status == 503);

    idle.clear(); // the slowloris goes away
    const http_result back = poll_status_code(port, 200);
    CHECK(back.status == 200);
    CHECK(back.json()["state"] == "idle");
}

TEST_CASE("log viewer cap: past --max-ws-clients a viewer gets 503 while the API answers") {
    host_process host({.extra_args = {"--max-connections", "8", "--max-ws-clients", "2"}});
    const int port = host.port();
    auto first = std::make_unique<log_viewer>(port);
    auto second = std::make_unique<log_viewer>(port);
    REQUIRE(first->status == 101);
    REQUIRE(second->status == 101);
    log_viewer third(port);
    CHECK(third.status == 503);
    CHECK(get(port, "/api/omni/status").status == 200);
    CHECK(post(port, "/api/omni/command-preview", {{"recipe", "demo-wan-tiny"}}).status == 200);

    first->ws->close();
    first.reset();
    // The freed seat is given back once the server notices the close.
    bool admitted = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!admitted && std::chrono::steady_clock::now() < deadline) {
        log_viewer next(port);
        admitted = next.status == 101;
        if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(admitted);
}

}
