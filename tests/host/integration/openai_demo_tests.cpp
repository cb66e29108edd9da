// The OpenAI-style video routes against the real in-process video plugin and the demo model the
// build writes: /v1/videos/sync answers MP4 bytes; /v1/videos queues a job whose record moves to
// "completed" and whose /content is the MP4.
#include <doctest/doctest.h>

#include <chrono>

#include "host_process.h"

using namespace omnihost_test;
using nlohmann::json;

TEST_SUITE("openai_demo") {

TEST_CASE("demo model: an MP4 from /v1/videos/sync and from a /v1/videos job") {
    host_process host({.plugin_dir = BUILD_PLUGIN_DIR, .shared_data_dir = DEMO_DATA_DIR});
    const int port = host.port();
    const auto started = post(port, "/api/omni/start", {{"recipe", "demo-wan-tiny"}});
    REQUIRE_MESSAGE(started.status == 202, started.body);
    const json status = wait_for_state(port, "ready", 180);
    REQUIRE_MESSAGE(status.value("state", "") == "ready", std::string(status.dump() + "\n" + host.log_text()));
    const std::string model = status["model"].get<std::string>();
    CHECK(get(port, "/v1/models").json()["data"][0]["id"] == model);

    const auto sync = post(port, "/v1/videos/sync", {{"model", model}, {"prompt", "a tiny test"}, {"seed", 1}});
    REQUIRE_MESSAGE(sync.status == 200, sync.body);
    CHECK(sync.headers.at("Content-Type") == "video/mp4");
    REQUIRE(sync.body.size() > 1000);
    CHECK(sync.body.substr(4, 4) == "ftyp");

    const auto created = post(port, "/v1/videos", {{"model", model}, {"prompt", "a tiny job"}, {"seed", 2}});
    REQUIRE_MESSAGE(created.status == 200, created.body);
    const json job = created.json();
    CHECK(job["object"] == "video");
    CHECK((job["status"] == "queued" || job["status"] == "in_progress"));
    const std::string id = job["id"].get<std::string>();
    json seen = job;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
    while (seen["status"] != "completed" && seen["status"] != "failed" && std::chrono::steady_clock::now() < deadline)
        seen = get(port, "/v1/videos/" + id).json();
    REQUIRE_MESSAGE(seen["status"] == "completed", seen.dump());
    CHECK(seen["progress"] == 100);
    CHECK(seen["completed_at"].is_number());
    const auto content = get(port, "/v1/videos/" + id + "/content");
    REQUIRE(content.status == 200);
    CHECK(content.headers.at("Content-Type") == "video/mp4");
    CHECK(content.body.substr(4, 4) == "ftyp");
    const json listed = get(port, "/v1/videos").json();
    CHECK(listed["object"] == "list");
    CHECK(listed["data"][0]["id"] == id);
    const auto deleted = http(port, "DELETE", "/v1/videos/" + id);
    REQUIRE(deleted.status == 200);
    CHECK(deleted.json()["deleted"] == true);
    CHECK(get(port, "/v1/videos/" + id).status == 404);
    CHECK(post(port, "/api/omni/stop", json::object()).status == 200);
}

}
