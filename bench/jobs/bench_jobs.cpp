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
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Data/Session.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include "jobs/job_store.h"

namespace {

using clock_type = std::chrono::steady_clock;

int request(Poco::Net::HTTPClientSession &session, const std::string &method, const std::string &path,
            const std::string &body, std::string *out = nullptr) {
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setKeepAlive(true);
    if (method == "POST") {
        req.setContentType("application/json");
        req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(req) << body;
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
    prefill(db, kHistory);

    int out_pipe[2];
    if (::pipe(out_pipe) != 0) return 1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out_pipe[1], STDOUT_FILENO);
        std::freopen("/dev/null", "w", stderr);
        ::close(out_pipe[0]);
        const std::string database = "sqlite:" + db;
        const std::string depth = std::to_string(kDepth);
        ::execl(binary.c_str(), binary.c_str(), "--port", "0", "--plugin-dir", plugin_dir.c_str(), "--recipe-dir",
                RECIPE_DIR, "--data-dir", temp.c_str(), "--web-dir", temp.c_str(), "--database", database.c_str(),
                "--queue-depth", depth.c_str(), "--log-level", "warn", static_cast<char *>(nullptr));
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
        if (auto at = line.find("listening on http://"); at != std::string::npos)
            port = std::stoi(line.substr(line.rfind(':') + 1));
        line.clear();
    }
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

    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::filesystem::remove_all(temp);
    return 0;
}
