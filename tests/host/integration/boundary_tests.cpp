// The browser boundary, attacked for real against the real binary: a cross-origin text/plain start
// (what any web page can send with fetch(..., {mode:'no-cors'})), a DNS-rebinding Host header, a
// WebSocket from a foreign page, 200,000 nested '[' to every POST endpoint, the security headers
// of every kind of answer, and the generated token of a non-loopback bind.
#include <doctest/doctest.h>

#include <regex>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>

#include "host_process.h"

using namespace omnihost_test;
using nlohmann::json;

namespace {

const std::vector<std::string> kPostEndpoints = {
    "/api/omni/start",          "/api/omni/stop",           "/api/omni/cancel",
    "/api/omni/generate",       "/api/omni/generate-video", "/api/omni/generate-audio",
    "/api/omni/generate-tts",   "/api/omni/chat",           "/api/omni/command-preview"};

// The attack body of the report: a start that would run a program.
const std::string kAttackStart =
    R"({"model":"x/y","model_type":"image","run_mode":"subprocess"})";

std::string own_origin(int port) { return "http://127.0.0.1:" + std::to_string(port); }

// Handshake status of /ws/omni/logs with the given extra headers (101 = upgraded).
int ws_status(int port, const std::map<std::string, std::string> &headers) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/ws/omni/logs", Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto &[key, value] : headers) request.set(key, value);
    Poco::Net::HTTPResponse response;
    try {
        Poco::Net::WebSocket ws(session, request, response);
        ws.close();
        return 101;
    } catch (const Poco::Net::WebSocketException &) {
        return static_cast<int>(response.getStatus());
    }
}

void check_security_headers(const http_result &r, const std::string &what) {
    CAPTURE(what);
    CAPTURE(r.status);
    REQUIRE(r.headers.count("Content-Security-Policy"));
    const std::string csp = r.headers.at("Content-Security-Policy");
    CHECK(csp.find("default-src 'self'") != std::string::npos);
    CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
    CHECK(csp.find("unsafe-inline") == std::string::npos);
    CHECK(csp.find("unsafe-eval") == std::string::npos);
    CHECK(r.headers.count("X-Frame-Options"));
    if (r.headers.count("X-Frame-Options")) CHECK(r.headers.at("X-Frame-Options") == "DENY");
    CHECK(r.headers.count("Referrer-Policy"));
    if (r.headers.count("Referrer-Policy")) CHECK(r.headers.at("Referrer-Policy") == "no-referrer");
    CHECK(r.headers.count("X-Content-Type-Options"));
    if (r.headers.count("X-Content-Type-Options")) CHECK(r.headers.at("X-Content-Type-Options") == "nosniff");
}

} // namespace

TEST_SUITE("http_boundary") {

TEST_CASE("a cross-origin start is refused and nothing starts; the same start from the page itself runs") {
    host_process host;
    const int port = host.port();
    // fetch(url, {method:'POST', mode:'no-cors', body}) from a foreign page: text/plain, foreign Origin.
    const auto no_cors = http(port, "POST", "/api/omni/start", kAttackStart,
                              {{"Content-Type", "text/plain;charset=UTF-8"}, {"Origin", "http://evil.example"}});
    CHECK(no_cors.status == 403);
    CHECK(no_cors.json().value("field", "") == "Origin");
    // The same with a JSON type (a preflighted request the browser would send after OPTIONS).
    CHECK(http(port, "POST", "/api/omni/start", kAttackStart,
               {{"Content-Type", "application/json"}, {"Origin", "http://evil.example"}}).status == 403);
    // A sandboxed frame or file:// page sends Origin: null.
    CHECK(http(port, "POST", "/api/omni/start", kAttackStart, {{"Origin", "null"}}).status == 403);
    // A look-alike: our own host name on another port is another origin.
    CHECK(http(port, "POST", "/api/omni/start", kAttackStart,
               {{"Origin", "http://127.0.0.1:" + std::to_string(port + 1)}}).status == 403);
    // No Origin (a script, not a page) but not JSON: 415, never parsed.
    const auto plain = http(port, "POST", "/api/omni/start", kAttackStart, {{"Content-Type", "text/plain"}});
    CHECK(plain.status == 415);
    CHECK(plain.json().value("field", "") == "Content-Type");
    CHECK(http(port, "POST", "/api/omni/start", kAttackStart,
               {{"Content-Type", "application/x-www-form-urlencoded"}}).status == 415);
    // Nothing was started, loaded or planned.
    const json status = get(port, "/api/omni/status").json();
    CHECK(status["state"] == "idle");
    CHECK(status["model"].is_null());
    CHECK(host.log_text().find("x/y") == std::string::npos);

    // The control: the page's own origin with JSON (charset allowed) does start, so the refusals
    // above are what kept the slot idle.
    const auto own = http(port, "POST", "/api/omni/start", kAttackStart,
                          {{"Content-Type", "application/json; charset=utf-8"}, {"Origin", own_origin(port)}});
    CHECK(own.status == 202);
    CHECK(wait_for_state(port, "ready")["model"] == "x/y");
}

TEST_CASE("a DNS-rebinding Host is refused; loopback names, the bound address and allowed names pass") {
    host_process host({.extra_args = {"--allowed-hosts", "omni.example.lan, proxy.internal"}});
    const int port = host.port();
    const std::string p = std::string(":") + std::to_string(port);
    for (const std::string &target : std::vector<std::string>{"/api/omni/status", "/", "/api/omni/recipes", "/no-such-file"}) {
        CAPTURE(target);
        const auto rebound = http(port, "GET", target, "", {{"Host", "attacker.example" + p}});
        CHECK(rebound.status == 403);
        CHECK(rebound.json().value("field", "") == "Host");
        check_security_headers(rebound, "403 for a foreign Host");
    }
    CHECK(http(port, "POST", "/api/omni/start", kAttackStart, {{"Host", "attacker.example" + p}}).status == 403);
    CHECK(http(port, "GET", "/api/omni/status", "", {{"Host", "127.0.0.1.attacker.example" + p}}).status == 403);
    CHECK(http(port, "GET", "/api/omni/status", "", {{"Host", "localhost.attacker.example"}}).status == 403);
    CHECK(ws_status(port, {{"Host", "attacker.example" + p}}) == 403);
    CHECK(get(port, "/api/omni/status").json()["state"] == "idle");

    for (const std::string &name : std::vector<std::string>{"localhost" + p, "LOCALHOST" + p, "127.0.0.1" + p, "[::1]" + p, "localhost",
                                   "localhost:1", "omni.example.lan" + p, "proxy.internal"}) {
        CAPTURE(name);
        CHECK(http(port, "GET", "/api/omni/status", "", {{"Host", name}}).status == 200);
    }
    CHECK(http(port, "GET", "/api/omni/status", "", {{"Host", "a b"}}).status == 400);
}

TEST_CASE("--allowed-origins lets another page in; others stay out") {
    host_process host({.extra_args = {"--allowed-origins", "https://studio.example:8443"}});
    const int port = host.port();
    CHECK(http(port, "POST", "/api/omni/command-preview", R"({"recipe":"demo-wan-tiny"})",
               {{"Origin", "https://studio.example:8443"}}).status == 200);
    CHECK(http(port, "POST", "/api/omni/command-preview", R"({"recipe":"demo-wan-tiny"})",
               {{"Origin", "http://studio.example:8443"}}).status == 403);
    CHECK(ws_status(port, {{"Origin", "https://studio.example:8443"}}) == 101);
}

TEST_CASE("WebSocket upgrades from a foreign page are refused; the page's own and origin-less ones pass") {
    host_process host;
    const int port = host.port();
    CHECK(ws_status(port, {{"Origin", "http://evil.example"}}) == 403);
    CHECK(ws_status(port, {{"Origin", "http://localhost:" + std::to_string(port + 1)}}) == 403);
    CHECK(ws_status(port, {{"Origin", own_origin(port)}}) == 101);
    CHECK(ws_status(port, {}) == 101);
    CHECK(get(port, "/api/omni/status").status == 200);
}

TEST_CASE("200,000 nested '[' to every POST endpoint: 4xx each, the host keeps answering") {
    host_process host;
    const int port = host.port();
    // Ready first, so the generate endpoints get as far as they ever can.
    REQUIRE(post(port, "/api/omni/start", {{"model", "t/video"}, {"model_type", "video"}}).status == 202);
    REQUIRE(wait_for_state(port, "ready")["state"] == "ready");
    const std::string deep(200000, '[');
    std::string one_mb(1 << 20, '[');
    for (const auto &endpoint : kPostEndpoints) {
        for (const std::string *body : std::vector<const std::string *>{&deep, &one_mb}) {
            CAPTURE(endpoint);
            CAPTURE(body->size());
            const auto r = http(port, "POST", endpoint, *body);
            CHECK(r.status >= 400);
            CHECK(r.status < 500);
            CHECK(r.json().value("field", "") == "body");
            CHECK(r.json().value("error", "").find("deeper than 64") != std::string::npos);
            REQUIRE(get(port, "/api/omni/status").status == 200);
        }
    }
    // Just under the limit still parses (and is refused for what it is, not for its depth).
    std::string shallow = "{\"prompt\":\"x\",\"negative_prompt\":" + std::string(63, '[') + std::string(63, ']') + "}";
    const auto r = http(port, "POST", "/api/omni/generate-video", shallow);
    CHECK(r.status == 400);
    CHECK(r.json().value("field", "") == "negative_prompt");
    const json status = get(port, "/api/omni/status").json();
    CHECK(status["state"] == "ready");
    CHECK(post(port, "/api/omni/generate-video", {{"prompt", "still works"}}).status == 200);
}

TEST_CASE("security headers on API, static and error answers") {
    host_process host({.extra_args = {"--token", "hdr-token"}});
    const int port = host.port();
    const std::map<std::string, std::string> auth = {{"Authorization", "Bearer hdr-token"}};
    check_security_headers(http(port, "GET", "/api/omni/status", "", auth), "API 200");
    check_security_headers(get(port, "/"), "static index");
    check_security_headers(get(port, "/app.js"), "static script");
    check_security_headers(get(port, "/missing.css"), "static 404");
    check_security_headers(http(port, "GET", "/api/omni/nope", "", auth), "API 404");
    check_security_headers(http(port, "GET", "/api/omni/start", "", auth), "API 405");
    check_security_headers(get(port, "/api/omni/status"), "API 401");
    check_security_headers(http(port, "POST", "/api/omni/start", "{", auth), "API 400");
    check_security_headers(http(port, "POST", "/api/omni/start", "x", {{"Authorization", "Bearer hdr-token"}, {"Content-Type", "text/plain"}}), "API 415");
    check_security_headers(http(port, "POST", "/api/omni/stop", "", {{"Origin", "http://evil.example"}}), "API 403");
    check_security_headers(get(port, "/../etc/passwd"), "static 403");
    // The WebSocket URL of this very host is allowed for the page's log socket.
    const auto index = get(port, "/");
    CHECK(index.headers.at("Content-Security-Policy").find("ws://127.0.0.1:" + std::to_string(port)) != std::string::npos);
}

TEST_CASE("bound to 0.0.0.0 without a token: a generated token, printed in a URL, is required") {
    host_process host({.extra_args = {"--host", "0.0.0.0"}});
    const int port = host.port();
    std::smatch match;
    const std::string printed = host.startup_output();
    REQUIRE_MESSAGE(std::regex_search(printed, match, std::regex("http://127\\.0\\.0\\.1:([0-9]+)/\\?token=([0-9a-f]{64})")), printed);
    CHECK(std::stoi(match[1].str()) == port);
    const std::string token = match[2].str();
    CHECK(host.log_text().find(token) == std::string::npos); // stdout only, never the log bus
    CHECK(get(port, "/api/omni/status").status == 401);
    CHECK(post(port, "/api/omni/start", json::parse(kAttackStart)).status == 401);
    CHECK(get(port, "/api/omni/status", token).status == 200);
    CHECK(get(port, "/").status == 200); // the page loads and picks the token from its URL

    // A second run gets another token.
    host_process other({.extra_args = {"--host", "0.0.0.0"}});
    std::smatch again;
    const std::string other_printed = other.startup_output();
    REQUIRE(std::regex_search(other_printed, again, std::regex("\\?token=([0-9a-f]{64})")));
    CHECK(again[1].str() != token);
}

TEST_CASE("bound to 0.0.0.0 with an operator token: that token, nothing generated; loopback: open") {
    host_process host({.extra_args = {"--host", "0.0.0.0", "--token", "operator-token"}});
    CHECK(host.startup_output().find("?token=") == std::string::npos);
    CHECK(get(host.port(), "/api/omni/status").status == 401);
    CHECK(get(host.port(), "/api/omni/status", "operator-token").status == 200);
    host_process loopback;
    CHECK(loopback.startup_output().find("?token=") == std::string::npos);
    CHECK(get(loopback.port(), "/api/omni/status").status == 200);
}

}
