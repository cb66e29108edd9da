// bench_metrics — how long a Prometheus scrape of the real omnihost takes with 10,000 finished
// jobs in history. The jobs are written into a SQLite job database through the store (then one
// bulk UPDATE marks them succeeded), the host is started on it, the HTTP families are filled by
// 3,000 requests over a dozen routes, and GET /metrics is timed on a kept-alive connection.
// Prints figures; never asserts.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jobs/job_store.h"

namespace {

using clock_type = std::chrono::steady_clock;

int request(Poco::Net::HTTPClientSession &session, const std::string &method, const std::string &path,
            std::string *out = nullptr) {
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setKeepAlive(true);
    if (method == "POST") {
        req.setContentType("application/json");
        req.setContentLength(2);
    }
    auto &body = session.sendRequest(req);
    if (method == "POST") body << "{}";
    Poco::Net::HTTPResponse response;
    std::string text;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), text);
    if (out) *out = text;
    return static_cast<int>(response.getStatus());
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

void prefill(const std::string &db, int count) {
    omnihost::jobs::JobStore store("sqlite:" + db, db);
    const auto t0 = clock_type::now();
    for (int i = 0; i < count; ++i) {
        omnihost::jobs::JobRecord job;
        job.id = "hist-" + std::to_string(i);
        job.task = i % 3 == 0 ? "image" : i % 3 == 1 ? "video" : "audio";
        job.model = "test/video-model";
        job.request = {{"prompt", "history item " + std::to_string(i)}, {"seed", i}, {"task", job.task}};
        job.created_ms = omnihost::jobs::now_epoch_ms() - (count - i) * 1000;
        store.insert(job, 0);
    }
    Poco::Data::Session session("SQLite", db);
    session << "UPDATE omnihost_jobs SET state = 'succeeded', started_ms = created_ms + 10, finished_ms = created_ms + 900, "
               "output_mime = 'image/png', output_bytes = 1234, output_path = '/nonexistent/bench-output.png'",
        Poco::Data::Keywords::now;
    std::printf("prefill: %d finished jobs written in %.2f s\n", count,
                std::chrono::duration<double>(clock_type::now() - t0).count());
}

void time_scrapes(int port, const char *label, int rounds) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    std::vector<double> ms;
    std::string body;
    for (int i = 0; i < rounds; ++i) {
        const auto t0 = clock_type::now();
        request(session, "GET", "/metrics", &body);
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
    prefill(db, kHistory);

    int out_pipe[2];
    if (::pipe(out_pipe) != 0) return 1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out_pipe[1], STDOUT_FILENO);
        std::freopen("/dev/null", "w", stderr);
        ::close(out_pipe[0]);
        const std::string database = "sqlite:" + db;
        ::execl(binary.c_str(), binary.c_str(), "--port", "0", "--plugin-dir", plugin_dir.c_str(), "--recipe-dir",
                RECIPE_DIR, "--data-dir", temp.c_str(), "--web-dir", temp.c_str(), "--database", database.c_str(),
                "--log-level", "warn", static_cast<char *>(nullptr));
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    std::string line;
    int port = 0;
    char c;
    while (port == 0 && ::read(out_pipe[0], &c, 1) == 1) {
        if (c != '\n') {
            line += c;
            continue;
        }
        if (line.find("listening on http://") != std::string::npos) port = std::stoi(line.substr(line.rfind(':') + 1));
        line.clear();
    }
    if (port == 0) {
        std::fprintf(stderr, "omnihost did not start\n");
        return 1;
    }

    time_scrapes(port, "10,000 jobs in history", 100);
    {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        const char *paths[] = {"/api/omni/status", "/api/omni/health", "/api/jobs?limit=5", "/v1/models", "/health",
                               "/v1/videos/x1", "/api/nothing", "/index.html", "/v1/nothing", "/metrics"};
        for (int i = 0; i < 3000; ++i) request(session, i % 7 == 0 ? "POST" : "GET", paths[i % 10]);
    }
    time_scrapes(port, "+ 3,000 requests over 10 routes", 100);

    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::filesystem::remove_all(temp);
    return 0;
}
