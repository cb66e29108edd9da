// What the machine offers (GET /api/features, POST /api/omni/check-venv), the settings every
// browser shares (GET/POST /api/settings, a file in the data dir that survives a restart), and
// request bodies judged before readiness.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "host_process.h"

using namespace omnihost_test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A folder with executables named `names` (shell scripts printing `output`).
fs::path fake_bin(const std::string &tag, const std::vector<std::string> &names, const std::string &output = "") {
    const fs::path dir = fs::temp_directory_path() / ("omnihost-features-" + tag + "-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    for (const auto &name : names) {
        const fs::path file = dir / name;
        std::ofstream(file) << "#!/bin/sh\necho '" << output << "'\n";
        ::chmod(file.c_str(), 0755);
    }
    return dir;
}

} // namespace

TEST_SUITE("http_features") {

TEST_CASE("features: container runtimes from PATH, operator venvs, plugins") {
    const fs::path with_podman = fake_bin("podman", {"podman"});
    const fs::path venv = fake_bin("venv", {}).parent_path() / ("omnihost-venv-" + std::to_string(::getpid()));
    fs::create_directories(venv / "bin");
    {
        host_process host({.env = {{"PATH", with_podman.string() + ":/bin"}, {"OMNIHOST_VENVS", venv.string() + "/"},
                                  {"OMNIHOST_CONTAINER_RUNTIME", "auto"}}});
        const json features = get(host.port(), "/api/features").json();
        CHECK(features["container_mode"] == true);
        CHECK(features["container_runtime"] == "podman");
        REQUIRE(features["container_runtimes"].size() == 1);
        CHECK(features["container_runtimes"][0]["path"] == (with_podman / "podman").string());
        REQUIRE(features["venvs"].size() == 1);
        CHECK(features["venvs"][0]["path"] == venv.string()); // normalised: no trailing '/'
        CHECK(features["venvs"][0]["exists"] == true);
        CHECK(features["gpus"].is_array());
        REQUIRE(features["plugins"].size() >= 1);
        CHECK(features["plugins"][0]["id"] == "test_plugin");
        CHECK(features["plugins"][0]["available"] == true);
    }
    {
        host_process host({.env = {{"PATH", "/nonexistent-omnihost"}, {"OMNIHOST_CONTAINER_RUNTIME", "auto"}}});
        const json features = get(host.port(), "/api/features").json();
        CHECK(features["container_mode"] == false);
        CHECK(features["container_runtime"].is_null());
        CHECK(features["container_runtimes"].empty());
    }
    fs::remove_all(with_podman);
    fs::remove_all(venv);
}

TEST_CASE("check-venv: only the operator's venvs are run; the playground's answers") {
    const fs::path venv = fs::temp_directory_path() / ("omnihost-venv-check-" + std::to_string(::getpid()));
    fs::create_directories(venv / "bin");
    // A python that "imports" vllm_omni by printing its version, as the real one-liner does.
    std::ofstream(venv / "bin" / "python") << "#!/bin/sh\necho 0.14.2\n";
    ::chmod((venv / "bin" / "python").c_str(), 0755);
    const fs::path empty_venv = venv.string() + "-empty";
    fs::create_directories(empty_venv);
    host_process host({.env = {{"OMNIHOST_VENVS", venv.string() + ":" + empty_venv.string()}}});
    const int port = host.port();

    json answer = post(port, "/api/omni/check-venv", {{"venv_path", venv.string()}}).json();
    CHECK(answer["vllm_omni_installed"] == true);
    CHECK(answer["vllm_omni_version"] == "0.14.2");
    CHECK(answer["detection_method"] == "python import");

    answer = post(port, "/api/omni/check-venv", {{"venv_path", empty_venv.string()}}).json();
    CHECK(answer["vllm_omni_installed"] == false);
    CHECK(answer["error"] == "Python executable not found: " + empty_venv.string() + "/bin/python");

    // Not listed by the operator: compared, never executed.
    auto refused = post(port, "/api/omni/check-venv", {{"venv_path", "/usr"}});
    CHECK(refused.status == 200);
    CHECK(refused.json()["vllm_omni_installed"] == false);
    CHECK(refused.json()["error"].get<std::string>().find("operator's venvs") != std::string::npos);
    CHECK(post(port, "/api/omni/check-venv", json::object()).json()["error"] == "No venv path provided");
    CHECK(post(port, "/api/omni/check-venv", {{"venv_path", nullptr}}).json()["error"] == "No venv path provided");

    auto bad = post(port, "/api/omni/check-venv", {{"venv_path", 5}});
    CHECK(bad.status == 400);
    CHECK(bad.json()["field"] == "venv_path");
    CHECK(post(port, "/api/omni/check-venv", {{"venv", "x"}}).json()["field"] == "venv");
    fs::remove_all(venv);
    fs::remove_all(empty_venv);
}

TEST_CASE("settings: shared by every client, written atomically, kept across a restart, never secrets") {
    const fs::path data = fs::temp_directory_path() / ("omnihost-settings-" + std::to_string(::getpid()));
    fs::remove_all(data);
    fs::create_directories(data);
    {
        host_process host({.extra_args = {"--data-dir", data.string()}});
        const int port = host.port();
        json first = get(port, "/api/settings").json();
        CHECK(first["omni_run_mode"] == "subprocess");
        CHECK(first["omni_port"] == 8000);
        CHECK(first["updated_at"].is_null()); // nothing saved yet
        auto saved = post(port, "/api/settings", {{"omni_run_mode", "remote"}, {"omni_remote_url", "http://gpu:8000"},
                                                  {"omni_port", nullptr}});
        REQUIRE_MESSAGE(saved.status == 200, saved.body);
        CHECK(saved.json()["omni_run_mode"] == "remote");
        CHECK(saved.json()["omni_port"] == 8000); // null left it unchanged
        CHECK(saved.json()["updated_at"].is_string());
        // Another client (a second browser) sees it.
        CHECK(get(port, "/api/settings").json()["omni_remote_url"] == "http://gpu:8000");

        auto secret = post(port, "/api/settings", {{"omni_remote_api_key", "sk-1"}});
        CHECK(secret.status == 400);
        CHECK(secret.json()["field"] == "omni_remote_api_key");
        auto bad_mode = post(port, "/api/settings", {{"omni_run_mode", "cloud"}});
        CHECK(bad_mode.status == 400);
        CHECK(bad_mode.json()["field"] == "omni_run_mode");
        auto bad_port = post(port, "/api/settings", {{"omni_port", 70000}});
        CHECK(bad_port.json()["field"] == "omni_port");
        CHECK(post(port, "/api/settings", {{"colour", "red"}}).json()["field"] == "colour");
        CHECK(get(port, "/api/settings").json()["omni_run_mode"] == "remote"); // refusals changed nothing
        // Only the file remains: no temp file left behind.
        std::vector<std::string> names;
        for (const auto &entry : fs::directory_iterator(data)) names.push_back(entry.path().filename().string());
        CHECK(std::count(names.begin(), names.end(), "settings.json") == 1);
        for (const auto &name : names) CHECK(name.find(".tmp") == std::string::npos);
    }
    {
        host_process host({.extra_args = {"--data-dir", data.string()}});
        CHECK(get(host.port(), "/api/settings").json()["omni_run_mode"] == "remote");
    }
    // A corrupt file is kept aside and the defaults are served.
    std::ofstream(data / "settings.json") << "{\"omni_run_mode\": ";
    {
        host_process host({.extra_args = {"--data-dir", data.string()}});
        CHECK(get(host.port(), "/api/settings").json()["omni_run_mode"] == "subprocess");
        CHECK(fs::exists(data / "settings.json.bak"));
    }
    fs::remove_all(data);
}

TEST_CASE("a malformed body is named before readiness is checked, on every generate endpoint") {
    host_process host;
    const int port = host.port();
    struct case_row {
        const char *path;
        json body;
        const char *field;
    };
    const std::vector<case_row> cases = {
        {"/api/omni/chat", {{"messages", "hello"}}, "messages"},
        {"/api/omni/chat", json::object(), "messages"},
        {"/api/omni/chat", {{"messages", json::array({{{"role", "user"}}})}}, "messages"},
        {"/api/omni/generate", {{"prompt", 5}}, "prompt"},
        {"/api/omni/generate-video", {{"prompt", nullptr}}, "prompt"},
        {"/api/omni/generate-video", {{"prompt", "x"}, {"seed", "1"}}, "seed"},
        {"/api/omni/generate-audio", {{"text", ""}}, "text"},
        {"/api/omni/generate-tts", {{"text", "x"}, {"job_id", "a b"}}, "job_id"},
        {"/api/omni/generate-video", {{"prompt", "x"}, {"task", "audio"}}, "task"},
    };
    for (const auto &c : cases) {
        CAPTURE(c.path);
        CAPTURE(c.body.dump());
        auto result = post(port, c.path, c.body);
        CHECK(result.status == 400);
        CHECK(result.json()["field"] == c.field);
    }
    // A well-formed body while nothing is loaded is still 503.
    CHECK(post(port, "/api/omni/chat", {{"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}}).status == 503);
}

TEST_CASE("recipe defaults are judged by the serving plugin's manifest when recipes load") {
    // The test plugin serves video with sizes up to 256: the shipped 320x512 recipe is refused,
    // naming the recipe and the field; the tiny demo passes.
    host_process host;
    const json recipes = get(host.port(), "/api/omni/recipes").json();
    bool demo = false;
    for (const auto &recipe : recipes["recipes"]) {
        CHECK(recipe["id"] != "video-small-fast");
        demo = demo || recipe["id"] == "demo-wan-tiny";
    }
    CHECK(demo);
    bool refused = false;
    for (const auto &p : recipes["invalid"])
        refused = refused || (p["file"] == "video-small-fast.json" && p["field"] == "defaults.height" &&
                              p["error"] == "video-small-fast.json: recipe 'video-small-fast': defaults.height: must be between 2 and 256 (got 320)");
    CHECK(refused);
    CHECK(host.log_text().find("recipe video-small-fast: defaults.height") != std::string::npos);
    // A start that names it is refused as an unknown recipe.
    auto start = post(host.port(), "/api/omni/start", {{"recipe", "video-small-fast"}});
    CHECK(start.status == 400);
    CHECK(start.json()["field"] == "recipe");
}

} // TEST_SUITE

