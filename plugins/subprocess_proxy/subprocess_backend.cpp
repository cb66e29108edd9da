// subprocess_proxy: runs `vllm serve --host 127.0.0.1 --port P --omni ... -- <model>` as a child
// process in its own process group (what a request may choose: plugins/proxy_common/SECURITY.md),
// forwards its output to the log bus, waits for /health, watches for its exit and stops it with
// SIGTERM to the group, a grace period, then SIGKILL.
#include "child_process.h"
#include "http_client.h"
#include "json_fields.h"
#include "launch_policy.h"
#include "proxy_instance.h"
#include "readiness.h"

#include <cstdlib>
#include <memory>
#include <mutex>

using nlohmann::json;
using namespace omnihost::proxy;

namespace {

// Where to reach a server bound to `bind_host` (the operator's): a wildcard address is reached on
// loopback, an IPv6 literal needs brackets in a URL.
std::string connect_host(const std::string& bind_host) {
    if (bind_host == "0.0.0.0" || bind_host == "::" || bind_host.empty()) return "127.0.0.1";
    if (bind_host.find(':') != std::string::npos) return "[" + bind_host + "]";
    return bind_host;
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
    return out;
}

class subprocess_backend final : public proxy_backend {
public:
    subprocess_backend(json config, host_logger log)
        : config_(std::move(config)), log_(std::move(log)), policy_(read_launch_policy(config_)) {
        // Validate the create config now so a typo fails at create(), not at the first start().
        get_string(config_, "vllm_binary");
        if (has_field(config_, "env") && !config_["env"].is_object())
            throw invalid_field("env", "must be an object of strings");
        if (has_field(config_, "inherit_env")) {
            if (!config_["inherit_env"].is_array()) throw invalid_field("inherit_env", "must be an array of names");
            for (const auto& n : config_["inherit_env"]) {
                if (!n.is_string()) throw invalid_field("inherit_env", "must be an array of names");
                inherit_env_.push_back(n.get<std::string>());
            }
        }
    }

    void apply_policy(serve_settings& s, const json& start) const override {
        apply_launch_policy(s, start, policy_, true);
    }
    ~subprocess_backend() override { stop(); }

    const char* kind() const override { return "subprocess"; }

    // The binary and extra environment are operator settings (create config, else the
    // OMNIHOST_VLLM_BINARY variable); a start request cannot choose what gets executed.
    launch_command command(const serve_settings& s, const json&) const {
        const char* env_binary = std::getenv("OMNIHOST_VLLM_BINARY");
        std::string binary = get_string(config_, "vllm_binary", env_binary && *env_binary ? env_binary : "vllm");
        const char* path = std::getenv("PATH");
        launch_command cmd = subprocess_command(s, binary, path ? path : "");
        if (has_field(config_, "env")) {
            for (auto& [k, v] : config_["env"].items()) {
                if (!v.is_string()) throw invalid_field("env." + k, "must be a string");
                if (!cmd.env.count(k)) cmd.env[k] = v.get<std::string>();
            }
        }
        return cmd;
    }

    json preview(const serve_settings& s, const json& start) const override {
        return preview_json(kind(), command(s, start), s);
    }

    std::string start(serve_settings& s, const json& start, const start_hooks& hooks) override {
        stop();
        launch_command cmd = command(s, start);
        if (!s.venv_path.empty() && find_executable(cmd.argv[0], "").empty())
            throw invalid_field("venv_path", "no executable vllm at " + cmd.argv[0]);
        if (local_port_in_use(s.port))
            throw invalid_field("port", std::to_string(s.port) + " is already in use on 127.0.0.1 (another server?)");
        stop_grace_ = config_seconds(start, config_, "stop_grace_s", 10.0);
        auto start_timeout = config_seconds(start, config_, "start_timeout_s", 1800.0);
        auto probe_timeout = config_seconds(start, config_, "health_timeout_s", 3.0);

        auto proc = std::make_shared<child_process>();
        log_(OMNIHOST_LOG_INFO, "starting: " + shell_command(redact_env(cmd.env), redact_argv(cmd.argv)));
        host_logger log = log_;
        try {
            proc->spawn(process_spec{cmd.argv, cmd.env, {}, inherit_env_},
                        [log](const std::string& line, bool) { log.server_line(line); });
        } catch (const std::exception& e) {
            throw proxy_error(OMNIHOST_UNAVAILABLE, std::string("cannot launch vllm: ") + e.what());
        }
        {
            std::lock_guard lock(mutex_);
            proc_ = proc;
            port_ = s.port;
        }
        log_(OMNIHOST_LOG_INFO, "vllm started with pid " + std::to_string(proc->pid()));
        const std::string base = "http://" + connect_host(s.bind_host) + ":" + std::to_string(s.port);
        upstream_client client(base, s.remote_api_key);
        wait_hooks wait;
        wait.cancelled = hooks.cancelled;
        wait.dead_reason = [proc] {
            return proc->exited() ? exit_message(*proc) : std::string();
        };
        wait.progress = [&](int elapsed, const std::string& msg) { hooks.progress(elapsed, 0, msg); };
        try {
            probe_result r = wait_until_ready(client, start_timeout, probe_timeout, wait);
            log_(OMNIHOST_LOG_INFO, "vllm is ready (" + r.via + " answered 200)");
        } catch (...) {
            stop();
            throw;
        }
        client_ = std::make_unique<upstream_client>(base, s.remote_api_key);
        probe_timeout_ = probe_timeout;
        return base;
    }

    health_state poll() override {
        std::shared_ptr<child_process> proc;
        {
            std::lock_guard lock(mutex_);
            proc = proc_;
        }
        health_state h;
        if (!proc) {
            h.message = "not started";
            return h;
        }
        h.extras = {{"pid", proc->pid()}, {"port", port_}};
        if (proc->exited()) {
            h.failed = true;
            h.message = exit_message(*proc);
            h.extras["exit_code"] = *proc->exit_code();
            // Workers the server left behind die with it (no orphans); done on the poll after the
            // one that reported the failure, so the report is not delayed by the grace period.
            if (exit_reported_ && proc->group_alive()) proc->terminate_group(std::chrono::seconds(2));
            exit_reported_ = true;
            return h;
        }
        if (++polls_ % 10 == 0) {  // about every 5 s: is the API still answering?
            probe_result r = probe_upstream(*client_, probe_timeout_, false);
            last_probe_ok_ = r.ready;
            last_probe_detail_ = r.detail;
        }
        h.ready = last_probe_ok_;
        h.message = last_probe_ok_ ? "vllm is running" : "vllm is running but not answering: " + last_probe_detail_;
        return h;
    }

    void stop() override {
        std::shared_ptr<child_process> proc;
        {
            std::lock_guard lock(mutex_);
            proc.swap(proc_);
        }
        if (!proc) return;
        const bool was_running = !proc->exited();
        proc->terminate_group(stop_grace_);
        if (was_running) log_(OMNIHOST_LOG_INFO, "vllm (pid " + std::to_string(proc->pid()) + ") stopped: " + proc->exit_description());
        polls_ = 0;
        last_probe_ok_ = true;
        exit_reported_ = false;
    }

private:
    static std::string exit_message(const child_process& p) {
        // The exit may be seen before the readers got the last lines (the traceback): give them a
        // moment to reach end of file. A worker still holding the pipe only costs the wait.
        p.wait_output_closed(std::chrono::milliseconds(500));
        auto code = p.exit_code();
        std::string head = code && *code >= 0 ? "vllm exited with code " + std::to_string(*code)
                                              : "vllm " + p.exit_description();
        return head + ": " + join_lines(p.last_lines(8));
    }

    json config_;
    host_logger log_;
    launch_policy policy_;
    std::vector<std::string> inherit_env_;
    std::mutex mutex_;
    std::shared_ptr<child_process> proc_;
    std::unique_ptr<upstream_client> client_;
    int port_ = 0;
    std::chrono::milliseconds stop_grace_{10000};
    std::chrono::milliseconds probe_timeout_{3000};
    int polls_ = 0;
    bool exit_reported_ = false;
    bool last_probe_ok_ = true;
    std::string last_probe_detail_;
};

std::unique_ptr<proxy_backend> make_backend(const json& config, const host_logger& log) {
    return std::make_unique<subprocess_backend>(config, log);
}

}  // namespace

OMNIHOST_PROXY_PLUGIN("subprocess_proxy", "0.1.0", make_backend)
