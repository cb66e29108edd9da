// bench_jobs — the job queue's throughput and the history's listing time, on the real omnihost.
//
// 1. 10,000 finished jobs are written into a SQLite job database (through the store, then one
//    bulk UPDATE marking them succeeded), the host is started on it, and GET /api/jobs is timed:
//    the first page (50), a page deep in history (cursor), and the largest page (500).
// 2. The test plugin's video "model" is loaded and one endless job holds the slot; two client
//    threads then POST /api/jobs as fast as they can: accepted (202) per second until the queue
//    (--queue-depth 2000) is full, then answered (429 + Retry-After) per second once it is full.
// Prints figures; never asserts.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "bench_history.h"
#include "bench_host_process.h"
#include "bench_http.h"

namespace {

using clock_type = std::chrono::steady_clock;
using omnihost::bench::percentile;
using omnihost::bench::request;

void time_listing(int port, const char *label, const std::string &path, int rounds) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    std::vector<double> ms;
    std::string body;
    for (int i = 0; i < rounds; ++i) {
        const auto t0 = clock_type::now();
        request(session, "GET", path, "", &body);
        ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
    }
    std::printf("history %-28s %6zu bytes  p50 %7.2f ms  p99 %7.2f ms\n", label, body.size(), percentile(ms, 0.5),
                percentile(ms, 0.99));
}

} // namespace

int main(int argc, char **argv) {
    const std::string binary = argc > 1 ? argv[1] : OMNIHOST_BINARY;
    const std::string plugin_dir = argc > 2 ? argv[2] : TEST_PLUGIN_DIR;
    const double full_seconds = argc > 3 ? std::atof(argv[3]) : 3.0;
    char temp_template[] = "/tmp/omnihost-bench-jobs-XXXXXX";
    const std::string temp = ::mkdtemp(temp_template);
    const std::string db = temp + "/jobs.db";
    constexpr int kHistory = 10000;
    constexpr int kDepth = 2000;
    omnihost::bench::prefill_history(db, kHistory);

    omnihost::bench::host_process host = omnihost::bench::start_host(
        binary, {"--plugin-dir", plugin_dir, "--recipe-dir", RECIPE_DIR, "--data-dir", temp, "--web-dir", temp,
                 "--database", "sqlite:" + db, "--queue-depth", std::to_string(kDepth)});
    const int port = host.port;
    if (port == 0) {
        std::fprintf(stderr, "omnihost did not start\n");
        return 1;
    }

    // 1. Listing with 10,000 items in history.
    time_listing(port, "first page (50)", "/api/jobs?limit=50", 50);
    time_listing(port, "deep page (50, cursor)", "/api/jobs?limit=50&before=500", 50);
    time_listing(port, "largest page (500)", "/api/jobs?limit=500", 20);
    time_listing(port, "filtered (task=video, 50)", "/api/jobs?limit=50&task=video", 50);

    // 2. Submissions: a model, one endless job holding the slot, then two clients posting.
    Poco::Net::HTTPClientSession control("127.0.0.1", static_cast<Poco::UInt16>(port));
    request(control, "POST", "/api/omni/start",
            R"({"model":"test/video-model","model_type":"video","run_mode":"subprocess"})");
    for (int i = 0; i < 500; ++i) {
        std::string status;
        request(control, "GET", "/api/omni/status", "", &status);
        if (status.find("\"state\":\"ready\"") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    request(control, "POST", "/api/jobs",
            R"({"task":"video","prompt":"hold","job_id":"bench-hold","test_steps":100000,"test_step_ms":50})");
    std::atomic<int> accepted{0}, refused{0}, other{0};
    std::atomic<bool> full{false};
    clock_type::time_point full_at{};
    std::mutex full_mutex;
    const auto t0 = clock_type::now();
    auto client = [&](int which) {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        for (int i = 0;; ++i) {
            const std::string body = nlohmann::json({{"task", "video"}, {"prompt", "queued"}, {"test_steps", 1}}).dump();
            const int status = request(session, "POST", "/api/jobs", body);
            if (status == 202) accepted++;
            else if (status == 429) {
                refused++;
                if (!full.exchange(true)) {
                    std::lock_guard lock(full_mutex);
                    full_at = clock_type::now();
                }
            } else other++;
            if (full) {
                std::lock_guard lock(full_mutex);
                if (clock_type::now() - full_at > std::chrono::duration<double>(full_seconds)) break;
            }
            (void)which;
        }
    };
    std::thread a(client, 0), b(client, 1);
    a.join();
    b.join();
    const double filling = std::chrono::duration<double>(full_at - t0).count();
    const double when_full = std::chrono::duration<double>(clock_type::now() - full_at).count();
    std::printf("submit: %d jobs accepted (202) in %.2f s = %.0f jobs/s while the queue filled (2 clients, keep-alive)\n",
                accepted.load(), filling, accepted.load() / std::max(filling, 1e-9));
    std::printf("submit: %d refusals (429 + Retry-After) in %.2f s = %.0f answers/s with the queue full (depth %d)\n",
                refused.load(), when_full, refused.load() / std::max(when_full, 1e-9), kDepth);
    if (other) std::printf("submit: %d other answers\n", other.load());

    omnihost::bench::stop_host(host);
    std::filesystem::remove_all(temp);
    return 0;
}
