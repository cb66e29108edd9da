// Drives a proxy plugin through its C ABI exactly as the host does: dlopen(RTLD_LOCAL), the entry
// symbol, a host table that records log lines, and jobs that record progress/events and can be
// cancelled. Also helpers for the stand-in upstream.
#pragma once

#include <omnihost_plugin.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace proxytest {

struct captured_log_line {
    int level;
    std::string source, message;
};

class log_recorder {
public:
    void add(int level, const std::string& source, const std::string& message);
    std::vector<captured_log_line> lines() const;
    bool contains(const std::string& source, const std::string& needle) const;
    // Waits up to `timeout` for a line from `source` containing `needle`.
    bool wait_for(const std::string& source, const std::string& needle, std::chrono::milliseconds timeout) const;
    std::string dump() const;

private:
    mutable std::mutex mutex_;
    std::vector<captured_log_line> lines_;
};

class harness_job {
public:
    harness_job();
    const omnihost_job* get() { return &job_; }
    std::atomic<bool> cancel{false};
    std::vector<std::string> events() const;
    std::vector<std::string> progress_messages() const;
    int progress_count() const;

private:
    static void on_progress(void*, int32_t, int32_t, const char*, const char*);
    static int32_t on_cancelled(void*);
    static void on_emit(void*, const char*);
    omnihost_job job_{};
    mutable std::mutex mutex_;
    std::vector<std::string> events_, progress_;
};

struct gen_result {
    int status = -1;
    std::string error;
    std::string bytes, mime;
    nlohmann::json metadata;
};

class plugin_under_test {
public:
    // `library`: e.g. "subprocess_proxy" -> <plugin dir>/libsubprocess_proxy.so
    explicit plugin_under_test(const std::string& library);
    ~plugin_under_test();
    plugin_under_test(const plugin_under_test&) = delete;

    // Creates the instance; returns the status (error text in create_error).
    int create(const nlohmann::json& config);
    std::string create_error;

    int start(const nlohmann::json& start_json, harness_job* job = nullptr);
    gen_result generate(const nlohmann::json& request, harness_job* job = nullptr);
    int stop();
    nlohmann::json health();
    // Returns {} and sets *status on failure.
    nlohmann::json preview(const nlohmann::json& start_json, int* status = nullptr);
    // The reason of the last call through this harness that failed (each call has its own buffer).
    std::string last_error();
    // Waits until health()["failed"] (true) or timeout; returns the last health.
    nlohmann::json wait_health(const std::function<bool(const nlohmann::json&)>& pred, std::chrono::milliseconds timeout);

    log_recorder logs;
    const omnihost_plugin_entry* entry = nullptr;

private:
    static void on_log(void*, omnihost_log_level, const char*, const char*);
    void remember(int status, const char* err);
    std::mutex error_mutex_;
    std::string last_error_;
    void* handle_ = nullptr;
    omnihost_host host_{};
    omnihost_instance* inst_ = nullptr;
};

// A TCP port that was free a moment ago.
int free_port();

// Paths handed in by CMake.
std::string plugin_dir();
std::string standin_exe();
std::string standin_bin_dir();

// Prepends the stand-in's `vllm` shim directory to PATH for this process.
void put_vllm_shim_on_path();

// Plain HTTP helpers against the stand-in's steering endpoints.
nlohmann::json http_json(const std::string& method, const std::string& url, const std::string& body = "");
void standin_control(int port, const nlohmann::json& patch);
void standin_reset(int port);
nlohmann::json standin_requests(int port);

bool process_alive(int pid);  // exists and is not a zombie

// A stand-in server run directly (remote mode and the modality tests).
class standin_server {
public:
    standin_server(const std::vector<std::string>& extra_args = {}, const std::vector<std::string>& env = {});
    ~standin_server();
    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    int pid() const { return pid_; }

private:
    int port_ = 0;
    int pid_ = -1;
};

}  // namespace proxytest
