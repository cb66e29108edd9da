// The issue's attack, literally: against the real host with the real subprocess proxy, whose
// `vllm` is a script that records every time it is executed. A cross-origin text/plain start (what
// any web page can send) and a rebinding Host are refused and execute nothing; the same start from
// the page's own origin does execute the script once, so "nothing ran" is observed, not assumed.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "host_process.h"

using namespace omnihost_test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const fs::path &file) {
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// A folder holding only the subprocess proxy (its manifest names its library next to it).
fs::path subprocess_proxy_only(const fs::path &dir) {
    fs::create_directories(dir);
    for (const char *name : {"subprocess_proxy.plugin.json", "libsubprocess_proxy.so"})
        fs::create_symlink(fs::path(BUILD_PLUGIN_DIR) / name, dir / name);
    return dir;
}

} // namespace

TEST_SUITE("http_spawn") {

TEST_CASE("a cross-origin or rebinding start executes nothing; the page's own start executes vllm once") {
    char pattern[] = "/tmp/omnihost-spawn-XXXXXX";
    REQUIRE(::mkdtemp(pattern));
    const fs::path work = pattern;
    const fs::path marker = work / "executions.txt";
    const fs::path script = work / "vllm";
    std::ofstream(script) << "#!/bin/sh\necho \"$@\" >> '" << marker.string() << "'\nexec sleep 120\n";
    fs::permissions(script, fs::perms::owner_all);

    {
        host_process host({.plugin_dir = subprocess_proxy_only(work / "plugins").string(),
                          .env = {{"OMNIHOST_VLLM_BINARY", script.string()}}});
        const int port = host.port();
        // The very body the control below starts with: only the boundary stands between it and
        // an execution (no other rule of the start would refuse it).
        const std::string attack = R"({"model":"x/y","model_type":"image","run_mode":"subprocess","port":18731})";
        CHECK(http(port, "POST", "/api/omni/start", attack,
                   {{"Content-Type", "text/plain;charset=UTF-8"}, {"Origin", "http://evil.example"}}).status == 403);
        CHECK(http(port, "POST", "/api/omni/start", attack,
                   {{"Content-Type", "text/plain;charset=UTF-8"}}).status == 415);
        CHECK(http(port, "POST", "/api/omni/start", attack,
                   {{"Host", "rebind.evil.example:" + std::to_string(port)}}).status == 403);
        CHECK(get(port, "/api/omni/status").json()["state"] == "idle");

        // The control: the same start from the page's own origin, as JSON, runs the script.
        const auto started = http(port, "POST", "/api/omni/start", attack,
                                  {{"Origin", "http://127.0.0.1:" + std::to_string(port)}});
        REQUIRE_MESSAGE(started.status == 202, started.body);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (lines_of(marker).empty() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const auto executions = lines_of(marker);
        REQUIRE_MESSAGE(executions.size() == 1, host.log_text());
        CHECK(executions[0].find("x/y") != std::string::npos);
        CHECK(post(port, "/api/omni/stop", json::object()).status < 300);
    }
    CHECK(lines_of(marker).size() == 1);
    std::error_code ec;
    fs::remove_all(work, ec);
}

}
