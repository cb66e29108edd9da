// container_proxy: runs `vllm serve <model> --omni` in a podman (preferred) or docker container,
// reusing the container while its configuration hash and image are unchanged, streams `logs -f`
// into the log bus, detects container death by polling `inspect`, and stops with `stop -t 2`
// (keeping the container for reuse, like the playground).
#include "child_process.h"
#include "container_command.h"
#include "http_client.h"
#include "json_fields.h"
#include "launch_policy.h"
#include "leftovers.h"
#include "proxy_instance.h"
#include "readiness.h"
#include "runtime_cli.h"

#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>

using nlohmann::json;
using namespace omnihost::proxy;
using namespace std::chrono_literals;

namespace {

const char* kLabelFormat = "{{index .Config.Labels \"vllm-omni.config.hash\"}}|{{index .Config.Labels \"vllm-omni.image\"}}";

class container_backend final : public proxy_backend {
public:
    container_backend(json config, host_logger log)
        : config_(std::move(config)), log_(std::move(log)), policy_(read_launch_policy(config_)) {
        // Field errors surface at create(); a missing runtime only when it is needed (start/preview).
        get_string(config_, "image");
        get_string(config_, "container_name");
        static std::once_flag once;
        std::call_once(once, [this] { remove_orphaned_containers(); });
    }
    ~container_backend() override { stop(); }

    const char* kind() const override { return "container"; }

    void apply_policy(serve_settings& s, const json& start) const override {
        apply_launch_policy(s, start, policy_, false);
    }

    json preview(const serve_settings& requested, const json&) const override {
        container_config c = read_container_config(config_);
        serve_settings s = requested;
        if (!c.accelerator.empty()) s.accelerator = c.accelerator;
        launch_command cmd{container_run_argv(s, c, container_config_hash(s, c), owner_marker()), c.runtime_env};
        for (const auto& [k, v] : container_secret_env(s)) cmd.env[k] = v;
        json p = preview_json(kind(), cmd, s);
        p["container_name"] = c.name;
        p["image"] = container_image(c, s);
        return p;
    }

    std::string start(serve_settings& s, const json& start, const start_hooks& hooks) override {
        stop();
        container_config c = read_container_config(config_);
        if (!c.accelerator.empty()) s.accelerator = c.accelerator;
        const std::string hash = container_config_hash(s, c);
        const std::string image = container_image(c, s);
        const auto start_timeout = config_seconds(start, config_, "start_timeout_s", 1800.0);
        probe_timeout_ = config_seconds(start, config_, "health_timeout_s", 3.0);
        {
            std::lock_guard lock(mutex_);
            cfg_ = c;
            port_ = s.port;
        }

        cli_result labels = cli({"inspect", c.name, "--format", kLabelFormat}, 60s);
        const bool exists = labels.rc == 0;
        const bool reuse = exists && labels.trimmed_out() == hash + "|" + image;
        const std::string since = std::to_string(std::time(nullptr) - 1);
        if (reuse) {
            cli_result st = cli({"inspect", c.name, "--format", "{{.State.Status}}"}, 60s);
            if (st.trimmed_out() != "running") {
                if (local_port_in_use(s.port))
                    throw invalid_field("port", std::to_string(s.port) + " is already in use on 127.0.0.1");
                log_(OMNIHOST_LOG_INFO, "Reusing container " + c.name + " (config " + hash + "), starting it");
                cli_result r = cli({"start", c.name}, 120s);
                if (r.rc != 0) throw proxy_error(OMNIHOST_UNAVAILABLE, "Failed to start container " + c.name + ": " + r.err);
            } else {
                log_(OMNIHOST_LOG_INFO, "Reusing running container " + c.name + " (config " + hash + ")");
            }
        } else {
            if (exists) {
                log_(OMNIHOST_LOG_INFO, "Container " + c.name + " has another configuration (" + labels.trimmed_out() +
                                            "); recreating it");
                cli({"stop", "-t", "2", c.name}, 60s);
                cli({"rm", "-f", c.name}, 60s);
            }
            if (local_port_in_use(s.port))
                throw invalid_field("port", std::to_string(s.port) + " is already in use on 127.0.0.1");
            std::error_code ec;
            std::filesystem::create_directories(c.hf_cache_dir, ec);
            auto argv = container_run_argv(s, c, hash, owner_marker());
            auto run_env = c.runtime_env;
            for (const auto& [k, v] : container_secret_env(s)) run_env[k] = v;
            log_(OMNIHOST_LOG_INFO, "starting: " + shell_command(redact_env(run_env), redact_argv(argv)));
            hooks.progress(0, 0, "creating container " + c.name + " from " + image);
            cli_result r;
            try {
                host_logger log = log_;
                r = run_cli(argv, run_env, start_timeout, [log](const std::string& l) { log.write(OMNIHOST_LOG_INFO, "container", l); },
                            hooks.cancelled);
            } catch (const std::exception& e) {
                throw proxy_error(OMNIHOST_UNAVAILABLE, std::string("cannot run the container runtime: ") + e.what());
            }
            if (hooks.cancelled && hooks.cancelled()) {
                cli({"rm", "-f", c.name}, 60s);
                throw proxy_error(OMNIHOST_CANCELLED, "cancelled");
            }
            if (r.rc != 0)
                throw proxy_error(OMNIHOST_UNAVAILABLE, "Failed to start container: " + (r.timed_out ? std::string("timed out") : r.err));
            std::string id = r.trimmed_out();
            if (auto nl = id.rfind('\n'); nl != std::string::npos) id = id.substr(nl + 1);
            log_(OMNIHOST_LOG_INFO, "Container started: " + id.substr(0, 12));
        }

        // Follow the logs (only new lines for a reused container; the old "Uvicorn running" must
        // not be mistaken for this start).
        auto logs = std::make_shared<child_process>();
        {
            host_logger log = log_;
            std::vector<std::string> argv = reuse ? runtime_argv(c, {"logs", "-f", "--since", since, c.name})
                                                  : runtime_argv(c, {"logs", "-f", c.name});
            try {
                process_spec spec{argv, c.runtime_env, {}};
                spec.mark_owner = false;  // a runtime CLI (see process_spec::mark_owner); it has pdeathsig
                logs->spawn(spec, [log](const std::string& l, bool) { log.server_line(l); });
            } catch (const std::exception& e) {
                log_(OMNIHOST_LOG_WARN, std::string("cannot follow container logs: ") + e.what());
            }
            std::lock_guard lock(mutex_);
            logs_ = logs;
            running_ = true;
        }

        const std::string base = "http://127.0.0.1:" + std::to_string(s.port);
        upstream_client client(base, s.remote_api_key);
        wait_hooks wait;
        wait.cancelled = hooks.cancelled;
        auto last_check = std::chrono::steady_clock::now();
        wait.dead_reason = [&]() -> std::string {
            if (std::chrono::steady_clock::now() - last_check < 1s) return "";
            last_check = std::chrono::steady_clock::now();
            return death_reason();
        };
        wait.progress = [&](int elapsed, const std::string& msg) { hooks.progress(elapsed, 0, msg); };
        try {
            probe_result r = wait_until_ready(client, start_timeout, probe_timeout_, wait);
            log_(OMNIHOST_LOG_INFO, "container " + c.name + " is ready (" + r.via + " answered 200)");
        } catch (...) {
            stop();
            throw;
        }
        client_ = std::make_unique<upstream_client>(base, s.remote_api_key);
        polls_ = 0;
        last_probe_ok_ = true;
        return base;
    }

    health_state poll() override {
        health_state h;
        container_config c;
        {
            std::lock_guard lock(mutex_);
            if (!running_) {
                h.message = "not started";
                return h;
            }
            c = cfg_;
        }
        h.extras = {{"container_name", c.name}, {"port", port_}, {"runtime", c.runtime}};
        ++polls_;
        if (polls_ % 4 == 0 || !dead_message_.empty()) {  // about every 2 s
            if (dead_message_.empty()) dead_message_ = death_reason();
        }
        if (!dead_message_.empty()) {
            h.failed = true;
            h.message = dead_message_;
            return h;
        }
        if (polls_ % 10 == 0) {
            probe_result r = probe_upstream(*client_, probe_timeout_, false);
            last_probe_ok_ = r.ready;
            last_probe_detail_ = r.detail;
        }
        h.ready = last_probe_ok_;
        h.message = last_probe_ok_ ? "container " + c.name + " is running"
                                   : "container is running but vLLM is not answering: " + last_probe_detail_;
        return h;
    }

    void stop() override {
        std::shared_ptr<child_process> logs;
        container_config c;
        bool running;
        {
            std::lock_guard lock(mutex_);
            logs.swap(logs_);
            c = cfg_;
            running = running_;
            running_ = false;
        }
        if (logs) logs->terminate_group(1s);
        if (!running) return;
        cli_result r = cli_with(c, {"stop", "-t", "2", c.name}, 60s);
        if (r.rc == 0) log_(OMNIHOST_LOG_INFO, "Container " + c.name + " stopped (kept for reuse)");
        else log_(OMNIHOST_LOG_WARN, "stopping container " + c.name + " failed: " + r.err);
        dead_message_.clear();
    }

private:
    // Running containers labelled by a host that is gone (it crashed or was killed): removed, so
    // no upstream keeps serving, and holding its GPU, without a host. Stopped containers are kept
    // for reuse, as a normal stop keeps them.
    void remove_orphaned_containers() {
        container_config c;
        try {
            c = read_container_config(config_);
        } catch (const std::exception&) {
            return;  // no runtime here: nothing can have been left
        }
        // Short deadlines: this runs while the host starts up (its probe create of the plugin).
        cli_result ids = cli_with(c, {"ps", "-q", "--filter", std::string("label=") + kOwnerLabel}, 10s);
        if (ids.rc != 0) return;
        std::istringstream lines(ids.out);
        for (std::string id; std::getline(lines, id);) {
            if (id.empty()) continue;
            cli_result owner = cli_with(c, {"inspect", id, "--format", std::string("{{index .Config.Labels \"") + kOwnerLabel + "\"}}"}, 10s);
            const std::string marker = owner.trimmed_out();
            if (owner.rc != 0 || marker.empty() || marker == owner_marker() || owner_alive(marker)) continue;
            cli_result rm = cli_with(c, {"rm", "-f", id}, 60s);
            if (rm.rc == 0)
                log_(OMNIHOST_LOG_WARN, "removed container " + id + " left running by a host that is gone (" + marker + ")");
            else
                log_(OMNIHOST_LOG_WARN, "cannot remove container " + id + " left by a host that is gone: " + rm.err);
        }
    }

    cli_result cli(std::initializer_list<std::string> args, std::chrono::milliseconds timeout) {
        container_config c;
        {
            std::lock_guard lock(mutex_);
            c = cfg_;
        }
        return cli_with(c, args, timeout);
    }

    static cli_result cli_with(const container_config& c, std::initializer_list<std::string> args, std::chrono::milliseconds timeout) {
        try {
            return run_cli(runtime_argv(c, args), c.runtime_env, timeout);
        } catch (const std::exception& e) {
            cli_result r;
            r.err = e.what();
            return r;
        }
    }

    // "" while the container runs; otherwise why it is gone, with its last log lines.
    std::string death_reason() {
        container_config c;
        {
            std::lock_guard lock(mutex_);
            c = cfg_;
        }
        cli_result st = cli_with(c, {"inspect", c.name, "--format", "{{.State.Status}}|{{.State.ExitCode}}"}, 30s);
        if (st.timed_out) return "";  // a slow runtime is not a dead container
        if (st.rc != 0) return "container " + c.name + " disappeared (" + st.err + ")";
        std::string out = st.trimmed_out();
        auto bar = out.find('|');
        std::string status = out.substr(0, bar);
        if (status == "running" || status == "created" || status == "configured" || status == "initialized") return "";
        std::string code = bar == std::string::npos ? "?" : out.substr(bar + 1);
        cli_result tail = cli_with(c, {"logs", "--tail", "8", c.name}, 30s);
        std::string lines = tail.out + tail.err;
        while (!lines.empty() && lines.back() == '\n') lines.pop_back();
        return "container " + c.name + " " + status + " with code " + code + ": " + lines;
    }

    json config_;
    host_logger log_;
    launch_policy policy_;
    std::mutex mutex_;
    container_config cfg_;
    int port_ = 0;
    bool running_ = false;
    std::shared_ptr<child_process> logs_;
    std::unique_ptr<upstream_client> client_;
    std::chrono::milliseconds probe_timeout_{3000};
    int polls_ = 0;
    bool last_probe_ok_ = true;
    std::string last_probe_detail_, dead_message_;
};

std::unique_ptr<proxy_backend> make_backend(const json& config, const host_logger& log) {
    return std::make_unique<container_backend>(config, log);
}

}  // namespace

OMNIHOST_PROXY_PLUGIN("container_proxy", "0.1.0", make_backend)
