// End to end through the real host: the in-process video plugin started with a hub id that only
// the stand-in hub serves (HF_ENDPOINT at it, HF_HOME in a temp folder) downloads the demo model
// into the cache on start and loads it; with --no-download the same start is refused clearly.
#include <doctest/doctest.h>

#include "host_process.h"
#include "hub_standin.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <unistd.h>

using namespace omnihost_test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char *kId = "demo-org/wan-tiny-on-hub";

struct temp_home {
    fs::path dir;
    temp_home() {
        std::random_device rd;
        dir = fs::temp_directory_path() / ("omnihost-hub-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
        fs::create_directories(dir);
        // The host inherits this process's environment: nothing may point it at another cache,
        // token or mode.
        for (const char *v : {"HF_HUB_CACHE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "XDG_CACHE_HOME"})
            ::unsetenv(v);
    }
    ~temp_home() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

// Video models route to the in-process video plugin (its status then says run_mode "inprocess").
json start_body() { return {{"model", kId}, {"model_type", "video"}, {"run_mode", "subprocess"}}; }

}  // namespace

TEST_SUITE("hub_host") {

TEST_CASE("start with a hub id only on the hub: downloaded into HF_HOME, then loaded") {
    temp_home home;
    hub_standin::server hub;
    const std::string commit = hub.add_repo(kId, {hub_standin::server::read_tree(DEMO_MODEL_DIR)});
    host_process host({.plugin_dir = BUILD_PLUGIN_DIR,
                      .env = {{"HF_ENDPOINT", hub.endpoint()}, {"HF_HOME", (home.dir / "hf").string()},
                              {"HOME", home.dir.string()}}});
    const int port = host.port();
    // The transformer's weights are held at the hub until the download shows on the status's
    // load progress (the UI's progress bar), then let through.
    const std::string held = "transformer/diffusion_pytorch_model.safetensors";
    hub.hold(held);
    const auto started = post(port, "/api/omni/start", start_body());
    REQUIRE_MESSAGE(started.status == 202, started.body);
    json load;
    for (const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
         std::chrono::steady_clock::now() < deadline;) {
        const json st = get(port, "/api/omni/status").json();
        if (st.contains("load") && st["load"].is_object() && st["load"].value("message", "").find(held) != std::string::npos) {
            load = st["load"];
            break;
        }
        REQUIRE_MESSAGE(st.value("state", "") != "failed", st.dump());  // held: it cannot be ready yet
    }
    hub.release();
    REQUIRE_MESSAGE(load.is_object(), host.log_text());
    CHECK(load["phase"] == "download");
    CHECK(load["total"].get<int>() > 0);
    CHECK(load["step"].get<int>() < load["total"].get<int>());
    const json status = wait_for_state(port, "ready", 240);
    REQUIRE_MESSAGE(status.value("state", "") == "ready", std::string(status.dump() + "\n" + host.log_text()));

    const fs::path repo = home.dir / "hf" / "hub" / "models--demo-org--wan-tiny-on-hub";
    CHECK(fs::is_regular_file(repo / "refs" / "main"));
    CHECK(fs::is_regular_file(repo / "snapshots" / commit / "model_index.json"));
    CHECK(fs::is_symlink(repo / "snapshots" / commit / "transformer" / "diffusion_pytorch_model.safetensors"));
    // The weights came through the LFS-style redirect; the log shows the per-file lines.
    bool via_cdn = false;
    for (const auto &r : hub.requests()) via_cdn = via_cdn || (r.server == "cdn" && r.method == "GET");
    CHECK(via_cdn);
    const std::string log = host.log_text();
    CHECK(log.find("model_index.json: downloaded") != std::string::npos);
    CHECK(log.find("downloaded " + std::string(kId)) != std::string::npos);

    // Started again (the model is cached now): nothing is fetched.
    hub.clear_requests();
    CHECK(post(port, "/api/omni/stop", json::object()).status == 200);
    REQUIRE(post(port, "/api/omni/start", start_body()).status == 202);
    CHECK(wait_for_state(port, "ready", 240).value("state", "") == "ready");
    CHECK(hub.requests().empty());
    CHECK(post(port, "/api/omni/stop", json::object()).status == 200);
}

TEST_CASE("--no-download: a hub id missing from the cache fails the start with a clear message, nothing fetched") {
    temp_home home;
    hub_standin::server hub;
    hub.add_repo(kId, {hub_standin::server::read_tree(DEMO_MODEL_DIR)});
    host_process host({.extra_args = {"--no-download"},
                      .plugin_dir = BUILD_PLUGIN_DIR,
                      .env = {{"HF_ENDPOINT", hub.endpoint()}, {"HF_HOME", (home.dir / "hf").string()},
                              {"HOME", home.dir.string()}}});
    const int port = host.port();
    REQUIRE(post(port, "/api/omni/start", start_body()).status == 202);
    const json s = wait_for_state(port, "failed", 60);
    REQUIRE_MESSAGE(s.value("state", "") == "failed", s.dump());
    const std::string error = s.value("error", "");
    CHECK(error.find("--no-download") != std::string::npos);
    CHECK(error.find(kId) != std::string::npos);
    CHECK(hub.requests().empty());
    CHECK(!fs::exists(home.dir / "hf" / "hub" / "models--demo-org--wan-tiny-on-hub" / "snapshots"));
}

TEST_CASE("a gated model: the start fails naming the model's page") {
    temp_home home;
    hub_standin::server hub;
    hub_standin::repo r{hub_standin::server::read_tree(DEMO_MODEL_DIR)};
    r.gated_token = "hf_accepted";
    hub.add_repo(kId, r);
    host_process host({.plugin_dir = BUILD_PLUGIN_DIR,
                      .env = {{"HF_ENDPOINT", hub.endpoint()}, {"HF_HOME", (home.dir / "hf").string()},
                              {"HOME", home.dir.string()}}});
    const int port = host.port();
    REQUIRE(post(port, "/api/omni/start", start_body()).status == 202);
    const json s = wait_for_state(port, "failed", 60);
    REQUIRE_MESSAGE(s.value("state", "") == "failed", s.dump());
    const std::string error = s.value("error", "");
    CHECK(error.find("gated") != std::string::npos);
    CHECK(error.find(hub.endpoint() + "/" + kId) != std::string::npos);
}

}
