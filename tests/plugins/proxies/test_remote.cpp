// remote_proxy connect: URL normalisation, bearer key on every call (right, wrong, missing),
// /health then /v1/models, model ids and max_model_len in health, unreachable hosts.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "plugin_harness.h"

using nlohmann::json;
using namespace proxytest;

namespace {
json remote(const std::string& url, const std::string& key = "") {
    json j = {{"run_mode", "remote"}, {"model_type", "image"}, {"remote_url", url}};
    if (!key.empty()) j["remote_api_key"] = key;
    return j;
}
}  // namespace

TEST_CASE("connect probes /health and /v1/models; /v1 is stripped; models reach health") {
    standin_server server({"--max-model-len", "32768"});
    plugin_under_test p("remote_proxy");
    REQUIRE(p.create(json::object()) == OMNIHOST_OK);
    REQUIRE_MESSAGE(p.start(remote(server.url() + "/v1/")) == OMNIHOST_OK, p.last_error());
    CHECK(p.logs.contains("remote_proxy", "Normalized remote URL to server root: " + server.url()));
    CHECK(p.logs.contains("remote_proxy", "Remote models: standin/remote-model"));
    json h = p.wait_health([](const json& j) { return j.contains("models"); }, std::chrono::seconds(3));
    CHECK(h["ready"] == true);
    CHECK(h["model"] == "standin/remote-model");
    CHECK(h["models"][0]["id"] == "standin/remote-model");
    CHECK(h["max_model_len"] == 32768);
    CHECK(h["base_url"] == server.url());
    json reqs = standin_requests(server.port());
    REQUIRE(reqs.size() >= 2);
    CHECK(reqs[0]["path"] == "/health");
    CHECK(reqs[1]["path"] == "/v1/models");
    json preview = p.preview(remote(server.url() + "/v1", "sk-secret"));
    CHECK(preview["kind"] == "remote");
    CHECK(preview["base_url"] == server.url());
    CHECK(preview.dump().find("sk-secret") == std::string::npos);
    CHECK(p.stop() == OMNIHOST_OK);
}

TEST_CASE("/v1/models is the readiness signal when /health is missing") {
    standin_server server;
    standin_control(server.port(), {{"health_status", 404}});
    plugin_under_test p("remote_proxy");
    REQUIRE(p.create(json::object()) == OMNIHOST_OK);
    REQUIRE_MESSAGE(p.start(remote(server.url())) == OMNIHOST_OK, p.last_error());
    CHECK(p.logs.contains("remote_proxy", "Using /v1/models as health signal"));
    CHECK(p.health()["health_via"] == "/v1/models");
}

TEST_CASE("bearer key: right key works on every call, wrong or missing key fails the connect") {
    standin_server server({"--api-key", "sk-right"});
    SUBCASE("right key") {
        plugin_under_test p("remote_proxy");
        REQUIRE(p.create(json::object()) == OMNIHOST_OK);
        REQUIRE_MESSAGE(p.start(remote(server.url(), "sk-right")) == OMNIHOST_OK, p.last_error());
        gen_result r = p.generate({{"task", "tts"}, {"text", "hi"}});
        REQUIRE_MESSAGE(r.status == OMNIHOST_OK, r.error);
        for (const auto& req : standin_requests(server.port())) {
            CAPTURE(req["path"]);
            CHECK(req["authorization"] == "Bearer sk-right");
        }
        CHECK_FALSE(p.logs.contains("", "sk-right"));
    }
    SUBCASE("wrong key") {
        plugin_under_test p("remote_proxy");
        REQUIRE(p.create(json::object()) == OMNIHOST_OK);
        CHECK(p.start(remote(server.url(), "sk-wrong")) == OMNIHOST_UNAVAILABLE);
        CHECK(p.last_error().find("refused the API key") != std::string::npos);
        CHECK(p.last_error().find("remote_api_key") != std::string::npos);
        CHECK(p.health()["ready"] == false);
    }
    SUBCASE("missing key") {
        plugin_under_test p("remote_proxy");
        REQUIRE(p.create(json::object()) == OMNIHOST_OK);
        CHECK(p.start(remote(server.url())) == OMNIHOST_UNAVAILABLE);
        CHECK(p.last_error().find("refused the API key") != std::string::npos);
    }
}

TEST_CASE("an unreachable remote fails the connect with a clear error") {
    plugin_under_test p("remote_proxy");
    REQUIRE(p.create({{"connect_timeout_s", 2}}) == OMNIHOST_OK);
    const int port = free_port();  // nothing listens there
    CHECK(p.start(remote("http://127.0.0.1:" + std::to_string(port))) == OMNIHOST_UNAVAILABLE);
    CHECK(p.last_error().rfind("Cannot reach remote vLLM-Omni at http://127.0.0.1:" + std::to_string(port), 0) == 0);
    CHECK(p.health()["ready"] == false);
    CHECK(p.generate({{"task", "image"}, {"prompt", "x"}}).status == OMNIHOST_UNAVAILABLE);
}

TEST_CASE("bad URLs are INVALID_ARGUMENT naming remote_url") {
    plugin_under_test p("remote_proxy");
    REQUIRE(p.create(json::object()) == OMNIHOST_OK);
    for (std::string bad : {"", "gpu-server:8091", "ftp://gpu:8091"}) {
        CAPTURE(bad);
        CHECK(p.start(remote(bad)) == OMNIHOST_INVALID_ARGUMENT);
        CHECK(p.last_error().rfind("remote_url:", 0) == 0);
    }
}

TEST_CASE("a remote that goes away turns health not-ready, and generate reports the connection error") {
    auto server = std::make_unique<standin_server>();
    plugin_under_test p("remote_proxy");
    REQUIRE(p.create({{"health_timeout_s", 1}}) == OMNIHOST_OK);
    REQUIRE(p.start(remote(server->url())) == OMNIHOST_OK);
    server.reset();
    json h = p.wait_health([](const json& j) { return j["ready"] == false; }, std::chrono::seconds(10));
    CHECK(h["ready"] == false);
    CHECK(h["message"].get<std::string>().rfind("remote not answering", 0) == 0);
    gen_result g = p.generate({{"task", "image"}, {"prompt", "x"}});
    CHECK(g.status == OMNIHOST_UNAVAILABLE);
    CHECK(g.error.rfind("Connection error: cannot connect", 0) == 0);
}
