// The embedded default, end to end: the real omnihost with the real plugins folder of this build
// and the demo model the build wrote; {"recipe":"demo-wan-tiny"} starts the in-process video
// plugin and a bare generate-video returns a playable MP4 at the recipe's size.
#include <doctest/doctest.h>

#include <Poco/Base64Decoder.h>

#include "host_process.h"

using namespace omnihost_test;
using nlohmann::json;

TEST_SUITE("demo_e2e") {

TEST_CASE("make run's default: demo recipe -> video_diffusion -> MP4") {
    host_process host({.plugin_dir = BUILD_PLUGIN_DIR, .shared_data_dir = DEMO_DATA_DIR});
    const int port = host.port();
    const json recipes = get(port, "/api/omni/recipes").json();
    REQUIRE(recipes["recipes"][0]["id"] == "demo-wan-tiny");
    const auto started = post(port, "/api/omni/start", {{"recipe", "demo-wan-tiny"}});
    REQUIRE_MESSAGE(started.status == 202, started.body);
    CHECK(started.json()["plugin"] == "video_diffusion");
    const json status = wait_for_state(port, "ready", 180);
    REQUIRE_MESSAGE(status.value("state", "") == "ready", std::string(status.dump() + "\n" + host.log_text()));
    CHECK(status["run_mode"] == "inprocess");

    const auto video = post(port, "/api/omni/generate-video", {{"prompt", "a tiny test"}, {"seed", 1}});
    REQUIRE_MESSAGE(video.status == 200, video.body);
    const json v = video.json();
    CHECK(v["mime_type"] == "video/mp4");
    CHECK(v["metadata"]["width"] == 64);
    CHECK(v["metadata"]["height"] == 64);
    std::istringstream in(v["video_base64"].get<std::string>());
    Poco::Base64Decoder decoder(in);
    const std::string mp4((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
    REQUIRE(mp4.size() > 1000);
    CHECK(mp4.substr(4, 4) == "ftyp");
    CHECK(post(port, "/api/omni/stop", json::object()).status == 200);
}

TEST_CASE("operator limits reach the video plugin's start settings; a request may only ask for less") {
    host_process host({.extra_args = {"--max-pixels", "300000", "--max-frames", "33"},
                      .plugin_dir = BUILD_PLUGIN_DIR, .shared_data_dir = DEMO_DATA_DIR});
    const int port = host.port();
    // The in-process preview shows the settings the plugin's start would get.
    const auto preview = post(port, "/api/omni/command-preview", {{"recipe", "demo-wan-tiny"}});
    REQUIRE_MESSAGE(preview.status == 200, preview.body);
    CHECK(preview.json()["settings"]["max_pixels"] == 300000);
    CHECK(preview.json()["settings"]["max_frames"] == 33);
    const auto less = post(port, "/api/omni/command-preview", {{"recipe", "demo-wan-tiny"}, {"max_pixels", 4096}});
    REQUIRE_MESSAGE(less.status == 200, less.body);
    CHECK(less.json()["settings"]["max_pixels"] == 4096);
    CHECK(less.json()["settings"]["max_frames"] == 33);
    for (const char *field : {"max_pixels", "max_frames"}) {
        CAPTURE(field);
        const auto more = post(port, "/api/omni/start", {{"recipe", "demo-wan-tiny"}, {field, 1000000000000LL}});
        CHECK(more.status == 400);
        CHECK(more.json()["field"] == field);
    }
    CHECK(get(port, "/api/omni/status").json()["state"] == "idle");
}

}
