// The real `omnihost` binary with subprocess_proxy pointed at the stand-in (through the operator's
// config file, as a user would set it up): SIGKILL of the host takes its vllm child with it (the
// parent-death signal), the next host start kills what was left (the child's own worker, which has
// no parent-death signal), and a start request outside the operator's policy spawns nothing.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "plugin_harness.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using nlohmann::json;
using namespace proxytest;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct http_reply {
    int status = 0;
    json body;
};

// The token the first host runs with: its child must never see it.
const std::string kHostToken = "omnihost-test-token-4f1c";

http_reply request(int port, const std::string& method, const std::string& path, const json& body = nullptr,
              const std::string& token = "") {
    Poco::Net::HTTPClientSession s("127.0.0.1", static_cast<Poco::UInt16>(port));
    s.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!token.empty()) req.set("Authorization", "Bearer " + token);
    const std::string text = body.is_null() ? "" : body.dump();
    if (method == "POST") {
        req.setContentType("application/json");
        req.setContentLength(static_cast<std::streamsize>(text.size()));
    }
    s.sendRequest(req) << text;
    Poco::Net::HTTPResponse res;
    std::string out;
    Poco::StreamCopier::copyToString(s.receiveResponse(res), out);
    return {static_cast<int>(res.getStatus()), json::parse(out, nullptr, false)};
}

// Polls until `pred` holds or `timeout` passes; returns whether it held.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(50ms);
    }
    return true;
}

std::pair<int, int> read_pids(const std::string& file) {
    std::ifstream f(file);
    int a = 0, b = 0;
    f >> a >> b;
    return {a, b};
}

// A temp folder with the subprocess plugin alone (manifest + library), recipes, web and data dirs,
// and a config file whose plugin_config points the plugin at the stand-in's `vllm` shim.
struct host_fixture {
    fs::path dir;
    host_fixture() {
        char pattern[] = "/tmp/omnihost-crash-XXXXXX";
        dir = ::mkdtemp(pattern);
        for (const char* d : {"plugins", "recipes", "web", "data"}) fs::create_directories(dir / d);
        for (const char* f : {"subprocess_proxy.plugin.json", "libsubprocess_proxy.so"})
            fs::create_symlink(fs::path(plugin_dir()) / f, dir / "plugins" / f);
        std::ofstream(dir / "web" / "index.html") << "<!doctype html><title>t</title>";
    }
    ~host_fixture() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::string config_file(const std::string& tag, const json& plugin_env) const {
        const fs::path file = dir / ("config-" + tag + ".json");
        json cfg = {{"plugin_config",
                     {{"subprocess_proxy", {{"vllm_binary", standin_bin_dir() + "/vllm"}, {"env", plugin_env}}}}}};
        std::ofstream(file) << cfg.dump();
        return file.string();
    }
};

// The real host binary on an ephemeral port; the pid is ours to SIGKILL.
class crash_test_host {
public:
    crash_test_host(const host_fixture& fx, const std::string& config, const std::string& tag, const std::string& token = "") {
        log_ = (fx.dir / ("host-" + tag + ".log")).string();
        std::vector<std::string> args = {OMNIHOST_BINARY, "--port", "0", "--host", "127.0.0.1",
                                         "--plugin-dir", (fx.dir / "plugins").string(),
                                         "--recipe-dir", (fx.dir / "recipes").string(),
                                         "--web-dir", (fx.dir / "web").string(),
                                         "--data-dir", (fx.dir / "data").string(),
                                         "--log-level", "debug", "--config", config};
        int out[2];
        REQUIRE(::pipe(out) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(out[1], 1);
            int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (log_fd >= 0) ::dup2(log_fd, 2);
            ::close(out[0]);
            ::close(out[1]);
            if (token.empty()) ::unsetenv("OMNIHOST_TOKEN");
            else ::setenv("OMNIHOST_TOKEN", token.c_str(), 1);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        stdout_ = out[0];
        const std::string marker = "omnihost listening on http://";
        std::string line;
        char c;
        while (port_ == 0 && ::read(stdout_, &c, 1) == 1) {
            if (c != '\n') {
                line += c;
                continue;
            }
            if (auto at = line.find(marker); at != std::string::npos) port_ = std::stoi(line.substr(line.rfind(':') + 1));
            line.clear();
        }
        REQUIRE_MESSAGE(port_ > 0, log_text());
    }
    ~crash_test_host() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            if (!eventually([&] { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; }, 20s)) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, nullptr, 0);
            }
        }
        if (stdout_ >= 0) ::close(stdout_);
    }
    void kill9() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    int port() const { return port_; }
    std::string log_text() const {
        std::ifstream f(log_);
        std::stringstream s;
        s << f.rdbuf();
        return s.str();
    }

private:
    pid_t pid_ = -1;
    int port_ = 0;
    int stdout_ = -1;
    std::string log_;
};

json start_body(int port, json extra = json::object()) {
    json j = {{"model", "Tongyi-MAI/Z-Image-Turbo"}, {"model_type", "image"}, {"run_mode", "subprocess"}, {"port", port}};
    j.update(extra);
    return j;
}

std::string wait_state(int port, const std::string& want, std::chrono::milliseconds timeout, json* last = nullptr,
                       const std::string& token = "") {
    std::string state;
    eventually(
        [&] {
            http_reply r = request(port, "GET", "/api/omni/status", nullptr, token);
            if (last) *last = r.body;
            state = r.body.value("state", "");
            return state == want || state == "failed";
        },
        timeout);
    return state;
}

}  // namespace

TEST_CASE("kill -9 of the host leaves no vllm child; the next start kills what the child left") {
    host_fixture fx;
    const std::string pidfile = (fx.dir / "pids").string();
    const std::string config = fx.config_file("a", {{"OMNIHOST_STANDIN_SPAWN_WORKER", "1"}, {"OMNIHOST_STANDIN_PID_FILE", pidfile}});
    int server = 0, worker = 0;
    {
        crash_test_host host(fx, config, "first", kHostToken);
        const int upstream = free_port();
        http_reply r = request(host.port(), "POST", "/api/omni/start", start_body(upstream), kHostToken);
        REQUIRE_MESSAGE(r.status == 202, r.body.dump());
        json status;
        REQUIRE_MESSAGE(wait_state(host.port(), "ready", 60s, &status, kHostToken) == "ready",
                        (status.dump() + "\n" + host.log_text()));
        std::tie(server, worker) = read_pids(pidfile);
        REQUIRE(process_alive(server));
        REQUIRE(process_alive(worker));
        // What the real host handed its child: a loopback bind, no token in the environment, and
        // no descriptor of the host (listening socket, connections, log files) besides 0, 1, 2.
        json info = http_json("GET", "http://127.0.0.1:" + std::to_string(upstream) + "/standin/info");
        CHECK(info["host"] == "127.0.0.1");
        CHECK_FALSE(info["environment"].contains("OMNIHOST_TOKEN"));
        CHECK(info["environment"].dump().find(kHostToken) == std::string::npos);
        std::vector<int> fds;
        for (const auto& f : info["fds_at_start"]) fds.push_back(f["fd"]);
        const std::vector<int> std_fds = {0, 1, 2};
        CHECK_MESSAGE(fds == std_fds, info["fds_at_start"].dump());
        host.kill9();
        // The server dies with the host: its parent-death signal is SIGKILL.
        CHECK_MESSAGE(eventually([&] { return !process_alive(server); }, 10s), "vllm outlived a SIGKILLed host");
    }
    // Its worker is a grandchild (no parent-death signal of ours): it is still running now, and
    // the next host start must end it.
    REQUIRE_MESSAGE(process_alive(worker), "the worker is expected to be left over for the next start to clean");
    crash_test_host second(fx, fx.config_file("b", json::object()), "second");
    CHECK_MESSAGE(eventually([&] { return !process_alive(worker); }, 10s), second.log_text());
    CHECK(second.log_text().find("killed a process left by a host that is gone") != std::string::npos);
}

TEST_CASE("through the real host: a start outside the operator's policy fails naming the field and spawns nothing") {
    host_fixture fx;
    const std::string pidfile = (fx.dir / "spawned").string();
    crash_test_host host(fx, fx.config_file("c", {{"OMNIHOST_STANDIN_PID_FILE", pidfile}}), "policy");
    const fs::path venv = fx.dir / "venv";
    fs::create_directories(venv / "bin");
    fs::create_symlink(standin_bin_dir() + "/vllm", venv / "bin" / "vllm");
    struct case_row {
        json extra;
        std::string error;  // what the failure must say (field first)
    };
    for (const case_row& c : std::vector<case_row>{{{{"venv_path", venv.string()}}, "venv_path: not one of the operator's venvs"},
                                           {{{"model", "-h"}}, "model: must not start with '-'"},
                                           {{{"model", "org/name@--x"}}, "model: revision '--x'"},
                                           {{{"trust_remote_code", true}}, "trust_remote_code: refused"}}) {
        CAPTURE(c.extra.dump());
        http_reply r = request(host.port(), "POST", "/api/omni/start", start_body(free_port(), c.extra));
        if (r.status == 202) {  // accepted for the slot: the plugin refuses it
            json status;
            CHECK(wait_state(host.port(), "failed", 20s, &status) == "failed");
            CHECK_MESSAGE(status.value("error", "").find(c.error) != std::string::npos, status.dump());
        } else {  // refused by the host's own request checks
            CHECK(r.status >= 400);
            CHECK(r.status < 500);
        }
        CHECK(request(host.port(), "GET", "/api/omni/status").status == 200);  // the host keeps serving
    }
    CHECK_FALSE(fs::exists(pidfile));
}
