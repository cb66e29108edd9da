// Catalogue endpoints (recipes, models, plugins) and the command preview, against the real host.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "host_process.h"

using namespace omnihost_test;
using nlohmann::json;
namespace fs = std::filesystem;

TEST_SUITE("http_catalog") {

TEST_CASE("recipes, models and plugins list what the folders hold, demo first") {
    host_process host;
    const int port = host.port();
    const json recipes = get(port, "/api/omni/recipes").json();
    REQUIRE(recipes["recipes"].is_array());
    // Every shipped recipe is listed, or refused by the serving plugin's manifest (here the test
    // plugin's, with sizes up to 256) naming the recipe and the field.
    size_t files = 0;
    for (const auto &entry : fs::directory_iterator(RECIPE_DIR)) files += entry.path().extension() == ".json";
    size_t refused = 0;
    for (const auto &p : recipes["invalid"]) {
        CAPTURE(p.dump());
        CHECK(p["error"].get<std::string>().find(": recipe '") != std::string::npos);
        CHECK(p["field"].get<std::string>().rfind("defaults.", 0) == 0);
        ++refused;
    }
    CHECK(recipes["recipes"].size() + refused == files);
    CHECK(recipes["recipes"].size() >= 9);
    CHECK(recipes["recipes"][0]["id"] == "demo-wan-tiny");
    CHECK(recipes["recipes"][0]["default"] == true);
    CHECK(recipes["default"] == "demo-wan-tiny");
    for (const auto &r : recipes["recipes"]) {
        CAPTURE(r["id"]);
        CHECK(r["hints"].contains("container_limitation"));
        CHECK(r["hints"].contains("requires_hf_token"));
        CHECK(r["defaults"].is_object());
    }

    const json models = get(port, "/api/omni/models").json();
    for (const char *type : {"image", "omni", "video", "tts", "audio"}) CHECK(models[type].is_array());
    CHECK(models["video"][0]["id"] == "models/wan-tiny-demo");
    CHECK(models["audio"][0]["id"] == "stabilityai/stable-audio-open-1.0");

    const json plugins = get(port, "/api/omni/plugins").json();
    REQUIRE(plugins["plugins"].size() == 1);
    CHECK(plugins["plugins"][0]["id"] == "test_plugin");
    CHECK(plugins["plugins"][0]["available"] == true);
    CHECK(plugins["plugins"][0]["kind"] == "inprocess");
}

TEST_CASE("a bad recipe file is listed and skipped; the host still starts") {
    const fs::path dir = fs::temp_directory_path() / ("omnihost-it-recipes-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "good.json") << R"({"id":"good","name":"Good","model":"a/b","model_type":"image"})";
    std::ofstream(dir / "bad.json") << R"({"id":"bad","name":"Bad","model":"a/b","model_type":"image","defaults":{"steps":"many"}})";
    std::ofstream(dir / "junk.json") << "{";
    host_process host({.recipe_dir = dir.string()});
    const json recipes = get(host.port(), "/api/omni/recipes").json();
    CHECK(recipes["recipes"].size() == 1);
    CHECK(recipes["recipes"][0]["id"] == "good");
    REQUIRE(recipes["invalid"].size() == 3); // bad.json, junk.json, and the missing default recipe
    bool named = false;
    for (const auto &p : recipes["invalid"])
        named = named || (p["file"] == "bad.json" && p["field"] == "defaults.steps" &&
                          p["error"].get<std::string>().find("bad.json: recipe 'bad': defaults.steps: must be an integer") == 0);
    CHECK(named);
    CHECK(host.log_text().find("recipe skipped: bad.json") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("command preview delegates to the routed plugin, secrets redacted, nothing started") {
    host_process host({.extra_args = {"--remote-allow", "gpu:8091"}});
    const int port = host.port();
    const auto preview = post(port, "/api/omni/command-preview", {{"recipe", "demo-wan-tiny"}});
    REQUIRE_MESSAGE(preview.status == 200, preview.body);
    const json p = preview.json();
    CHECK(p["mode"] == "subprocess");
    CHECK(p["kind"] == "inprocess");
    CHECK(p["plugin"] == "test_plugin");
    CHECK(p["command"].get<std::string>().find("wan-tiny-demo") != std::string::npos);
    CHECK(p["argv"].is_array());
    CHECK(p["env"].is_object());
    CHECK(p["settings"].is_object());

    const auto secret = post(port, "/api/omni/command-preview",
                             {{"model", "Qwen/Qwen-Image"}, {"model_type", "image"}, {"hf_token", "hf_TOPSECRET123"},
                              {"run_mode", "remote"}, {"remote_url", "http://gpu:8091"}, {"remote_api_key", "sk-HIDDEN"}});
    REQUIRE_MESSAGE(secret.status == 200, secret.body);
    CHECK(secret.body.find("hf_TOPSECRET123") == std::string::npos);
    CHECK(secret.body.find("sk-HIDDEN") == std::string::npos);
    CHECK(secret.json()["mode"] == "remote");
    CHECK(get(port, "/api/omni/status").json()["state"] == "idle");
    // Start logs must not leak the token either.
    REQUIRE(post(port, "/api/omni/start", {{"model", "a/b"}, {"model_type", "image"}, {"hf_token", "hf_TOPSECRET123"}}).status == 202);
    wait_for_state(port, "ready");
    CHECK(host.log_text().find("hf_TOPSECRET123") == std::string::npos);

    const auto refused = post(port, "/api/omni/command-preview", {{"model", "x/y"}, {"model_type", "audio"}, {"run_mode", "container"}});
    CHECK(refused.status == 400);
    CHECK(refused.json()["field"] == "run_mode");
}

TEST_CASE("an unavailable plugin is listed with its reason; its routes answer 503; the host serves on") {
    const fs::path dir = fs::temp_directory_path() / ("omnihost-it-plugins-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ifstream in(fs::path(TEST_PLUGIN_DIR) / "test_plugin.plugin.json");
    json manifest = json::parse(in);
    manifest["library"] = "libtest_plugin_gone.so";
    std::ofstream(dir / "test_plugin.plugin.json") << manifest.dump();
    host_process host({.plugin_dir = dir.string()});
    const int port = host.port();
    const json plugins = get(port, "/api/omni/plugins").json();
    REQUIRE(plugins["plugins"].size() == 1);
    CHECK(plugins["plugins"][0]["available"] == false);
    CHECK(plugins["plugins"][0]["reason"].get<std::string>().find("not found") != std::string::npos);
    const auto start = post(port, "/api/omni/start", {{"recipe", "demo-wan-tiny"}});
    CHECK(start.status == 503);
    CHECK(start.json()["error"].get<std::string>().find("unavailable") != std::string::npos);
    CHECK(get(port, "/api/omni/status").json()["state"] == "idle");
    CHECK(host.log_text().find("plugin test_plugin unavailable") != std::string::npos);
    fs::remove_all(dir);
}

}
