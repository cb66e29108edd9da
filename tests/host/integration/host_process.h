// host_process.h — runs the real `omnihost` binary for a test: a temp data dir, --port 0, reads
// the "omnihost listening on http://HOST:PORT" line, SIGTERM + wait on destruction. Plus a tiny
// HTTP client over Poco for real requests.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/types.h>

namespace omnihost_test {

struct host_config {
    std::vector<std::string> extra_args;          // appended after the defaults
    std::string plugin_dir = TEST_PLUGIN_DIR;     // the test plugin alone
    std::string recipe_dir = RECIPE_DIR;          // the shipped recipes
    std::string web_dir;                          // "" = a temp dir with index.html
    std::map<std::string, std::string> env;       // extra environment
    // A data dir that other tests use too (the demo models in the build tree): the host reads its
    // models there but keeps its job database and outputs in its own temp dir, so hosts running at
    // once (ctest -j) or one after another never share a queue or find each other's job ids.
    std::string shared_data_dir;
};

class host_process {
public:
    explicit host_process(host_config config = {});
    ~host_process();
    host_process(const host_process &) = delete;
    host_process &operator=(const host_process &) = delete;

    int port() const { return port_; }
    pid_t pid() const { return pid_; } // for kill -9 tests (terminate() still reaps it)
    const std::filesystem::path &temp_dir() const { return temp_; }
    std::string log_text() const; // the host's stderr so far
    // What the host printed on stdout up to and including the "listening" line.
    const std::string &startup_output() const { return startup_output_; }

    // SIGTERM, wait up to `seconds`; returns the exit status (or -1 if it had to be killed).
    int terminate(int seconds = 20);

private:
    pid_t pid_ = -1;
    int port_ = 0;
    int stdout_fd_ = -1;
    std::filesystem::path temp_;
    std::string startup_output_;
};

struct http_result {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;
    nlohmann::json json() const; // parsed body, or discarded
};

// One request on a fresh connection. `raw_target` is sent as is (so tests can send "/../x").
http_result http(int port, const std::string &method, const std::string &raw_target,
                const std::string &body = "", const std::map<std::string, std::string> &headers = {});

http_result get(int port, const std::string &target, const std::string &token = "");
http_result post(int port, const std::string &target, const nlohmann::json &body, const std::string &token = "");

// Polls /api/omni/status until "state" equals `state` (or the timeout); returns the last status.
nlohmann::json wait_for_state(int port, const std::string &state, double seconds = 20,
                              const std::string &token = "");

} // namespace omnihost_test
