// A plugin nobody has seen: plain C, built without omnihost's helpers, copied into a plugin folder
// at test time. Its manifest's parameter ("sharpness_knob", 3..17, default 5) becomes a validated
// API field with no host edit: out of range is a 400 naming it, absent or null gets the default,
// and the plugin receives exactly the validated value.
#include <doctest/doctest.h>

#include <filesystem>

#include "host_process.h"

using namespace omnihost_test;
using nlohmann::json;
namespace fs = std::filesystem;

TEST_SUITE("http_dropin") {

TEST_CASE("a dropped-in plain-C plugin's own parameter is validated, defaulted and delivered") {
    const fs::path folder = fs::temp_directory_path() / ("omnihost-dropin-" + std::to_string(::getpid()));
    fs::remove_all(folder);
    fs::create_directories(folder);
    for (const char *file : {"libdropin_plugin.so", "dropin_plugin.plugin.json"})
        fs::copy_file(fs::path(DROPIN_PLUGIN_DIR) / file, folder / file);
    {
        HostProcess host({.plugin_dir = folder.string()});
        const int port = host.port();
        const json plugins = get(port, "/api/omni/plugins").json();
        REQUIRE(plugins["plugins"].size() == 1);
        CHECK(plugins["plugins"][0]["available"] == true);
        CHECK(plugins["plugins"][0]["parameters"]["image"]["sharpness_knob"]["max"] == 17);

        REQUIRE(post(port, "/api/omni/start", {{"model", "any/model"}, {"model_type", "image"}, {"run_mode", "subprocess"}}).status == 202);
        REQUIRE(wait_for_state(port, "ready")["state"] == "ready");

        auto sent = [&](json body) { return post(port, "/api/omni/generate", body); };
        auto too_high = sent({{"prompt", "x"}, {"sharpness_knob", 18}});
        CHECK(too_high.status == 400);
        CHECK(too_high.json()["field"] == "sharpness_knob");
        CHECK(too_high.json()["error"] == "sharpness_knob: must be between 3 and 17 (got 18)");
        auto wrong_type = sent({{"prompt", "x"}, {"sharpness_knob", "7"}});
        CHECK(wrong_type.status == 400);
        CHECK(wrong_type.json()["field"] == "sharpness_knob");

        auto operator_only = sent({{"prompt", "x"}, {"watermark", "mine"}});
        CHECK(operator_only.status == 400);
        CHECK(operator_only.json()["error"] == "watermark: is set by the operator only, not by a request");

        auto chosen = sent({{"prompt", "x"}, {"sharpness_knob", 7}});
        REQUIRE_MESSAGE(chosen.status == 200, chosen.body);
        const json request = chosen.json()["metadata"]["request"];
        CHECK(request["sharpness_knob"] == 7);
        CHECK(request["task"] == "image");
        CHECK(request["prompt"] == "x");
        CHECK(request["watermark"] == "dropin"); // the manifest's default, never the request's

        for (const json &absent : {json{{"prompt", "x"}}, json{{"prompt", "x"}, {"sharpness_knob", nullptr}}}) {
            auto defaulted = sent(absent);
            REQUIRE_MESSAGE(defaulted.status == 200, defaulted.body);
            CHECK(defaulted.json()["metadata"]["request"]["sharpness_knob"] == 5);
        }
    }
    fs::remove_all(folder);
}

} // TEST_SUITE
