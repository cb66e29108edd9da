// Routing (model_type, run_mode) -> plugin, from manifest data only.
#include <registry.h>

#include <doctest/doctest.h>

using namespace omnihost::plugin_loader;

namespace {
const std::filesystem::path good_dir = OMNIHOST_TEST_PLUGIN_DIR;
const std::filesystem::path bad_dir = OMNIHOST_BAD_PLUGIN_DIR;
}  // namespace

TEST_SUITE("routing") {

TEST_CASE("routes of the test plugin") {
    registry reg;
    reg.scan_dir(good_dir);
    for (const char *mt : {"video", "audio", "image", "tts", "omni"}) {
        auto r = reg.route(mt, "subprocess");
        REQUIRE_MESSAGE(r, mt);
        CHECK(r.plugin->manifest.id == "test_plugin");
    }
    for (const char *mt : {"image", "tts", "omni"}) {
        CHECK(reg.route(mt, "container"));
        CHECK(reg.route(mt, "remote"));
    }
}

TEST_CASE("refusals come from the manifest's reason") {
    registry reg;
    reg.scan_dir(good_dir);
    auto r = reg.route("video", "container");
    CHECK_FALSE(r);
    CHECK(r.refusal == "video and audio models run in-process; container mode is not available for them");
    CHECK(reg.route("audio", "container").refusal == r.refusal);
}

TEST_CASE("nothing serves it") {
    registry reg;
    reg.scan_dir(good_dir);
    auto r = reg.route("video", "remote");
    CHECK_FALSE(r);
    CHECK(r.refusal == "no plugin serves model_type video in run_mode remote");
    registry empty;
    CHECK(empty.route("image", "subprocess").refusal == "no plugin serves model_type image in run_mode subprocess");
}

TEST_CASE("unknown vocabulary is refused by name") {
    registry reg;
    reg.scan_dir(good_dir);
    CHECK(reg.route("hologram", "subprocess").refusal.find("unknown model_type 'hologram'") == 0);
    CHECK(reg.route("video", "local").refusal.find("unknown run_mode 'local'") == 0);
}

TEST_CASE("a route whose only plugin is unavailable says why") {
    registry reg;
    reg.scan_dir(bad_dir / "bad_create_fails");
    auto r = reg.route("video", "subprocess");
    CHECK_FALSE(r);
    CHECK(r.refusal.find("plugin bad_create_fails serves model_type video in run_mode subprocess but is unavailable: "
                         "create() failed") == 0);
    // Once a working plugin for the same route is added, it wins.
    reg.scan_dir(good_dir);
    auto ok = reg.route("video", "subprocess");
    REQUIRE(ok);
    CHECK(ok.plugin->manifest.id == "test_plugin");
}

TEST_CASE("to_json lists every plugin with the API's fields") {
    registry reg;
    reg.scan_dir(good_dir);
    reg.scan_dir(bad_dir / "bad_abi_major");
    auto j = reg.to_json();
    REQUIRE(j["plugins"].size() == 2);
    for (const auto &p : j["plugins"])
        for (const char *key : {"id", "name", "version", "kind", "available", "reason", "routes", "refuses", "tasks",
                                "parameters", "path"})
            CHECK_MESSAGE(p.contains(key), key);
    CHECK(j["plugins"][0]["routes"][0]["model_type"] == "video");
    CHECK(j["plugins"][0]["refuses"][0]["reason"].get<std::string>().find("in-process") != std::string::npos);
    CHECK(j["plugins"][0]["parameters"]["video"]["num_inference_steps"]["max"] == 50);
    CHECK(j["plugins"][1]["available"] == false);
}

}  // TEST_SUITE
