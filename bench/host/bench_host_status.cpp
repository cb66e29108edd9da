// bench_host_status — how responsive the control plane stays while a generation runs.
//
// Starts the real omnihost (the binary and the test plugin dir are baked in at build time, or
// given as argv[1] argv[2]) on an ephemeral port, loads the test plugin's video "model", starts
// one long generation, then hammers GET /api/omni/status from 2 client threads over keep-alive
// connections for a few seconds. Prints requests/second and latency percentiles. Never asserts.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

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

} // namespace

int main(int argc, char **argv) {
    const std::string binary = argc > 1 ? argv[1] : OMNIHOST_BINARY;
    const std::string plugin_dir = argc > 2 ? argv[2] : TEST_PLUGIN_DIR;
    const double seconds = argc > 3 ? std::atof(argv[3]) : 5.0;
    char temp_template[] = "/tmp/omnihost-bench-XXXXXX";
    const std::string temp = ::mkdtemp(temp_template);

    int out_pipe[2];
    if (::pipe(out_pipe) != 0) return 1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out_pipe[1], STDOUT_FILENO);
        std::freopen("/dev/null", "w", stderr);
        ::close(out_pipe[0]);
        ::execl(binary.c_str(), binary.c_str(), "--port", "0", "--plugin-dir", plugin_dir.c_str(),
                "--recipe-dir", RECIPE_DIR, "--data-dir", temp.c_str(), "--web-dir", temp.c_str(),
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
        if (auto at = line.find("listening on http://"); at != std::string::npos)
            port = std::stoi(line.substr(line.rfind(':') + 1));
        line.clear();
    }
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
    std::sort(all.begin(), all.end());
    auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))]; };
    std::printf("bench_host_status: %d client threads, keep-alive, %.1f s, generation running: %s\n", kClients,
                elapsed, generating ? "yes" : "NO");
    std::printf("  requests: %zu (%d non-200)\n", all.size(), failures.load());
    std::printf("  throughput: %.0f requests/s\n", all.size() / elapsed);
    std::printf("  latency us: p50 %.0f  p90 %.0f  p99 %.0f  max %.0f\n", pct(0.50), pct(0.90), pct(0.99),
                all.empty() ? 0.0 : all.back());

    ::kill(pid, SIGTERM);
    int wstatus = 0;
    ::waitpid(pid, &wstatus, 0);
    std::filesystem::remove_all(temp);
    return 0;
}
