// bench_host_status — how responsive the control plane stays while a generation runs.
//
// Starts the real omnihost (the binary and the test plugin dir are baked in at build time, or
// given as argv[1] argv[2]) on an ephemeral port, loads the test plugin's video "model", starts
// one long generation, then hammers GET /api/omni/status from 2 client threads over keep-alive
// connections for a few seconds. Prints requests/second and latency percentiles. Never asserts.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>
#include <unistd.h>

#include "bench_host_process.h"
#include "bench_http.h"

using omnihost::bench::percentile;
using omnihost::bench::request;

int main(int argc, char **argv) {
    const std::string binary = argc > 1 ? argv[1] : OMNIHOST_BINARY;
    const std::string plugin_dir = argc > 2 ? argv[2] : TEST_PLUGIN_DIR;
    const double seconds = argc > 3 ? std::atof(argv[3]) : 5.0;
    char temp_template[] = "/tmp/omnihost-bench-XXXXXX";
    const std::string temp = ::mkdtemp(temp_template);

    omnihost::bench::host_process host = omnihost::bench::start_host(
        binary, {"--plugin-dir", plugin_dir, "--recipe-dir", RECIPE_DIR, "--data-dir", temp, "--web-dir", temp});
    const int port = host.port;
    if (port == 0) {
        std::fprintf(stderr, "omnihost did not start\n");
        return 1;
    }

    Poco::Net::HTTPClientSession control("127.0.0.1", static_cast<Poco::UInt16>(port));
    request(control, "POST", "/api/omni/start",
            R"({"model":"bench/video","model_type":"video","run_mode":"subprocess"})");
    std::string status;
    for (int i = 0; i < 500; ++i) {
        request(control, "GET", "/api/omni/status", "", &status);
        if (status.find("\"state\":\"ready\"") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // A generation long enough to outlast the measurement; cancelled at the end.
    std::thread generation([port] {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        session.setTimeout(Poco::Timespan(600, 0));
        request(session, "POST", "/api/omni/generate-video",
                R"({"prompt":"bench","test_steps":100000,"test_step_ms":5,"job_id":"bench-job"})");
    });
    for (int i = 0; i < 500; ++i) {
        request(control, "GET", "/api/omni/status", "", &status);
        if (status.find("bench-job") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const bool generating = status.find("bench-job") != std::string::npos;

    constexpr int kClients = 2;
    std::vector<std::vector<double>> latencies(kClients);
    std::atomic<int> failures{0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    std::vector<std::thread> clients;
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < kClients; ++k) {
        clients.emplace_back([&, k] {
            Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
            while (std::chrono::steady_clock::now() < deadline) {
                const auto start = std::chrono::steady_clock::now();
                if (request(session, "GET", "/api/omni/status", "") != 200) ++failures;
                latencies[k].push_back(
                    std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
            }
        });
    }
    for (auto &t : clients) t.join();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    request(control, "POST", "/api/omni/cancel", R"({"job_id":"bench-job"})");
    generation.join();

    std::vector<double> all;
    for (auto &l : latencies) all.insert(all.end(), l.begin(), l.end());
    auto pct = [&](double p) { return percentile(all, p); };
    std::printf("bench_host_status: %d client threads, keep-alive, %.1f s, generation running: %s\n", kClients,
                elapsed, generating ? "yes" : "NO");
    std::printf("  requests: %zu (%d non-200)\n", all.size(), failures.load());
    std::printf("  throughput: %.0f requests/s\n", all.size() / elapsed);
    std::printf("  latency us: p50 %.0f  p90 %.0f  p99 %.0f  max %.0f\n", pct(0.50), pct(0.90), pct(0.99),
                all.empty() ? 0.0 : *std::max_element(all.begin(), all.end()));

    omnihost::bench::stop_host(host);
    std::filesystem::remove_all(temp);
    return 0;
}
