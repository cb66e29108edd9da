// bench_metrics — how long a Prometheus scrape of the real omnihost takes with 10,000 finished
// jobs in history. The jobs are written into a SQLite job database through the store (then one
// bulk UPDATE marks them succeeded), the host is started on it, the HTTP families are filled by
// 3,000 requests over a dozen routes, and GET /metrics is timed on a kept-alive connection.
// Prints figures; never asserts.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>
#include <unistd.h>

#include "bench_history.h"
#include "bench_host_process.h"
#include "bench_http.h"

namespace {

using clock_type = std::chrono::steady_clock;
using omnihost::bench::percentile;
using omnihost::bench::request;

void time_scrapes(int port, const char *label, int rounds) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    std::vector<double> ms;
    std::string body;
    for (int i = 0; i < rounds; ++i) {
        const auto t0 = clock_type::now();
        request(session, "GET", "/metrics", "", &body);
        ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
    }
    size_t lines = static_cast<size_t>(std::count(body.begin(), body.end(), '\n'));
    std::printf("scrape %-34s %7zu bytes %5zu lines  p50 %7.2f ms  p99 %7.2f ms  (%d scrapes)\n", label, body.size(), lines,
                percentile(ms, 0.5), percentile(ms, 0.99), rounds);
}

} // namespace

int main(int argc, char **argv) {
    const std::string binary = argc > 1 ? argv[1] : OMNIHOST_BINARY;
    const std::string plugin_dir = argc > 2 ? argv[2] : TEST_PLUGIN_DIR;
    char temp_template[] = "/tmp/omnihost-bench-metrics-XXXXXX";
    const std::string temp = ::mkdtemp(temp_template);
    const std::string db = temp + "/jobs.db";
    constexpr int kHistory = 10000;
    omnihost::bench::prefill_history(db, kHistory);

    omnihost::bench::host_process host = omnihost::bench::start_host(
        binary, {"--plugin-dir", plugin_dir, "--recipe-dir", RECIPE_DIR, "--data-dir", temp, "--web-dir", temp,
                 "--database", "sqlite:" + db});
    const int port = host.port;
    if (port == 0) {
        std::fprintf(stderr, "omnihost did not start\n");
        return 1;
    }

    time_scrapes(port, "10,000 jobs in history", 100);
    {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        const char *paths[] = {"/api/omni/status", "/api/omni/health", "/api/jobs?limit=5", "/v1/models", "/health",
                               "/v1/videos/x1", "/api/nothing", "/index.html", "/v1/nothing", "/metrics"};
        for (int i = 0; i < 3000; ++i) request(session, i % 7 == 0 ? "POST" : "GET", paths[i % 10], i % 7 == 0 ? "{}" : "");
    }
    time_scrapes(port, "+ 3,000 requests over 10 routes", 100);

    omnihost::bench::stop_host(host);
    std::filesystem::remove_all(temp);
    return 0;
}
