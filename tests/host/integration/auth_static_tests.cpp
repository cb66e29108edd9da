// Bearer-token auth on /api and /ws (on and off), and static serving over real HTTP with path
// traversal attempts.
#include <doctest/doctest.h>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>

#include "host_process.h"

using namespace omnihost_test;
using nlohmann::json;

namespace {

// Opens /ws/omni/logs with the given target; returns the handshake status (101 on success) and,
// on success, whether a first frame arrived.
int ws_status(int port, const std::string &target, const std::string &bearer, bool *got_frame) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, target, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!bearer.empty()) request.set("Authorization", "Bearer " + bearer);
    Poco::Net::HTTPResponse response;
    try {
        Poco::Net::WebSocket ws(session, request, response);
        ws.setReceiveTimeout(Poco::Timespan(5, 0));
        char buffer[65536];
        int flags = 0;
        if (got_frame) *got_frame = ws.receiveFrame(buffer, sizeof buffer, flags) > 0;
        ws.close();
        return 101;
    } catch (const Poco::Net::WebSocketException &) {
        return static_cast<int>(response.getStatus());
    }
}

} // namespace

TEST_SUITE("http_auth") {

TEST_CASE("token configured: /api and /ws need it, static files stay public") {
    host_process host({.extra_args = {"--token", "s3cret-token"}});
    const int port = host.port();
    const auto anonymous = get(port, "/api/omni/status");
    CHECK(anonymous.status == 401);
    CHECK(anonymous.json()["success"] == false);
    CHECK(anonymous.json()["error"].get<std::string>().find("bearer token") != std::string::npos);
    CHECK(anonymous.headers.at("WWW-Authenticate") == "Bearer");
    CHECK(get(port, "/api/omni/status", "wrong").status == 401);
    CHECK(get(port, "/api/omni/status", "s3cret-token-and-more").status == 401);
    CHECK(http(port, "GET", "/api/omni/status", "", {{"Authorization", "s3cret-token"}}).status == 401);
    CHECK(http(port, "GET", "/api/omni/status", "", {{"Authorization", "Basic s3cret-token"}}).status == 401);
    CHECK(get(port, "/api/omni/status?token=s3cret-token").status == 401); // query tokens: WebSocket only
    CHECK(get(port, "/api/omni/status", "s3cret-token").status == 200);
    CHECK(post(port, "/api/omni/start", {{"recipe", "demo-wan-tiny"}}).status == 401);
    CHECK(get(port, "/api/omni/does-not-exist").status == 401); // no path probing without the token
    CHECK(get(port, "/api/omni/recipes", "s3cret-token").status == 200);
    CHECK(get(port, "/").status == 200);
    CHECK(get(port, "/app.js").status == 200);

    CHECK(ws_status(port, "/ws/omni/logs", "", nullptr) == 401);
    CHECK(ws_status(port, "/ws/omni/logs?token=nope", "", nullptr) == 401);
    bool frame = false;
    CHECK(ws_status(port, "/ws/omni/logs?token=s3cret-token", "", &frame) == 101);
    CHECK(frame); // the backlog has the start-up lines
    CHECK(ws_status(port, "/ws/omni/logs", "s3cret-token", nullptr) == 101);
}

TEST_CASE("token from the environment") {
    host_process host({.env = {{"OMNIHOST_TOKEN", "env-token"}}});
    CHECK(get(host.port(), "/api/omni/status").status == 401);
    CHECK(get(host.port(), "/api/omni/status", "env-token").status == 200);
}

TEST_CASE("no token: everything open") {
    host_process host;
    CHECK(get(host.port(), "/api/omni/status").status == 200);
    CHECK(get(host.port(), "/api/omni/status", "anything").status == 200);
    CHECK(ws_status(host.port(), "/ws/omni/logs", "", nullptr) == 101);
}

}

TEST_SUITE("http_static") {

TEST_CASE("serves the web folder with MIME types; no way out of it") {
    host_process host;
    const int port = host.port();
    const auto index = get(port, "/");
    CHECK(index.status == 200);
    CHECK(index.headers.at("Content-Type") == "text/html; charset=utf-8");
    CHECK(index.body.find("omnihost test") != std::string::npos);
    const auto js = get(port, "/app.js?v=2");
    CHECK(js.status == 200);
    CHECK(js.headers.at("Content-Type") == "text/javascript; charset=utf-8");
    CHECK(http(port, "HEAD", "/index.html").status == 200);
    CHECK(http(port, "POST", "/index.html", "x").status == 405);
    CHECK(get(port, "/missing.css").status == 404);

    const std::vector<std::string> attacks = {
        "/../outside.txt", "/./../outside.txt", "/%2e%2e/outside.txt", "/%2E%2E/outside.txt",
        "/.%2e/outside.txt", "/%2e%2e%2foutside.txt", "/..%2foutside.txt", "/..%5coutside.txt",
        "/..\\outside.txt", "/link-out.txt", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/../../../../etc/passwd",
        "//etc/passwd", "/etc/passwd", "/index.html%00", "/%00", "/..", "/.%2E",
        "/app.js/../../outside.txt",
    };
    for (const auto &target : attacks) {
        CAPTURE(target);
        http_result r;
        try {
            r = http(port, "GET", target);
        } catch (const Poco::Exception &e) {
            FAIL_CHECK("request failed: " << e.displayText());
            continue;
        }
        CHECK(r.status >= 400);
        CHECK(r.status < 500);
        CHECK(r.body.find("must not be served") == std::string::npos);
        CHECK(r.body.find("root:") == std::string::npos);
    }
    CHECK(get(port, "/api/omni/status").status == 200); // still serving
}

}
