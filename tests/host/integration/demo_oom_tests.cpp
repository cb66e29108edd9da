// Out of memory during a generation, for real: the real omnihost with the real video plugin and
// the demo model. Once the model is loaded and one small video has been made, the test caps the
// host process's address space (RLIMIT_AS, set from outside with prlimit) a little above what it
// uses, then asks for a video within the host's --max-pixels/--max-frames that needs far more. The
// job must fail as out of memory with a message naming the settings that would help, the model
// must stay loaded, and the next small request must succeed. Also checks that the peak memory
// reaches /api/omni/status and the result metadata.
#include <doctest/doctest.h>

#include "host_process.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <sys/resource.h>

using namespace omnihost_test;
using nlohmann::json;

namespace {

// A "Name:   N kB" line of /proc/PID/status, in bytes; -1 when absent.
long long proc_status_bytes(pid_t pid, const std::string &name) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(name + ":", 0) != 0) continue;
        std::istringstream fields(line.substr(name.size() + 1));
        long long kib = -1;
        fields >> kib;
        return kib < 0 ? -1 : kib * 1024;
    }
    return -1;
}

const json small_video = {{"prompt", "a tiny test"}, {"seed", 1}};

}  // namespace

TEST_SUITE("demo_oom") {

TEST_CASE("peak memory in status and metadata; an out-of-memory job fails alone and the model stays usable") {
    host_process host({.extra_args = {"--max-pixels", "921600", "--max-frames", "241"},
                      .plugin_dir = BUILD_PLUGIN_DIR, .shared_data_dir = DEMO_DATA_DIR});
    const int port = host.port();
    const auto started = post(port, "/api/omni/start", {{"recipe", "demo-wan-tiny"}});
    REQUIRE_MESSAGE(started.status == 202, started.body);
    const json status = wait_for_state(port, "ready", 180);
    REQUIRE_MESSAGE(status.value("state", "") == "ready", std::string(status.dump() + "\n" + host.log_text()));

    // The load's peak, as the plugin reports it (the health poll may lag the ready state by a tick).
    json memory = status["device_memory"];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!memory.is_object() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        memory = get(port, "/api/omni/status").json()["device_memory"];
    }
    REQUIRE_MESSAGE(memory.is_object(), status.dump());
    CHECK(memory["device"] == "cpu");
    CHECK(memory["measure"].get<std::string>().find("peak RSS") != std::string::npos);
    CHECK(memory["load_peak_bytes"].get<long long>() > (1LL << 20));
    CHECK(memory["last_job_peak_bytes"].is_null());
    CHECK(host.log_text().find("peak memory while loading: ") != std::string::npos);

    const auto first = post(port, "/api/omni/generate-video", small_video);
    REQUIRE_MESSAGE(first.status == 200, first.body);
    const json meta = first.json()["metadata"];
    CHECK(meta["peak_memory_device"] == "cpu");
    CHECK(meta["peak_memory_bytes"].get<long long>() > (1LL << 20));

    // Cap the address space 384 MiB above what the host has mapped now. A 1280x720, 241-frame
    // video of the demo model needs several GiB (its decoded frames alone are 2.5 GiB of floats).
    const long long vm = proc_status_bytes(host.pid(), "VmSize");
    REQUIRE(vm > 0);
    const rlimit cap{static_cast<rlim_t>(vm + (384LL << 20)), static_cast<rlim_t>(vm + (384LL << 20))};
    REQUIRE(::prlimit(host.pid(), RLIMIT_AS, &cap, nullptr) == 0);

    const auto big = post(port, "/api/omni/generate-video",
                          {{"prompt", "too big"}, {"seed", 2}, {"width", 1280}, {"height", 720}, {"num_frames", 241},
                           {"num_inference_steps", 1}});
    CHECK_MESSAGE(big.status == 507, big.body);
    const std::string error = big.body;
    CHECK_MESSAGE(error.find("out of memory") != std::string::npos, error);
    CHECK_MESSAGE(error.find("the model stays loaded") != std::string::npos, error);
    // The demo recipe runs fp32 on the CPU with VAE tiling and slicing off: those are what help.
    for (const char *setting : {"dtype=bf16", "vae_use_tiling=true", "vae_use_slicing=true", "fewer frames"})
        CHECK_MESSAGE(error.find(setting) != std::string::npos, setting << " not named in: " << error);
    CHECK_MESSAGE(error.find("enable_cpu_offload") == std::string::npos, "offload cannot help on the CPU: " << error);

    // Same loaded model, same address-space cap: a small request works.
    const json after = get(port, "/api/omni/status").json();
    CHECK(after["state"] == "ready");
    const auto again = post(port, "/api/omni/generate-video", small_video);
    CHECK_MESSAGE(again.status == 200, again.body);
    CHECK(again.json()["metadata"]["seed"] == 1);
    CHECK(post(port, "/api/omni/stop", json::object()).status == 200);
}

}
