// What differs between the three proxies: how the upstream is brought up, watched and brought
// down. The generic instance (proxy_instance.h) does the ABI, health caching, generate() and errors.
#pragma once

#include "proxy_error.h"
#include "vllm_command.h"

#include <omnihost_plugin.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace omnihost::proxy {

// Log lines go through the host's bus; `source` is the plugin id or "vllm" for server output.
class host_logger {
public:
    host_logger(const omnihost_host* host, std::string plugin_id) : host_(host), id_(std::move(plugin_id)) {}
    void operator()(omnihost_log_level level, const std::string& message) const { write(level, id_, message); }
    void write(omnihost_log_level level, const std::string& source, const std::string& message) const {
        if (host_ && host_->log) host_->log(host_->user_data, level, source.c_str(), message.c_str());
    }
    // A line of vLLM/uvicorn output: level guessed from its text.
    void server_line(const std::string& line) const;
    const std::string& plugin_id() const { return id_; }

private:
    const omnihost_host* host_;
    std::string id_;
};

struct start_hooks {
    std::function<bool()> cancelled;
    std::function<void(int step, int total, const std::string& message)> progress;
};

struct health_state {
    bool ready = false;
    bool failed = false;
    std::string message;
    nlohmann::json extras = nlohmann::json::object();
};

class proxy_backend {
public:
    virtual ~proxy_backend() = default;

    // "subprocess" | "container" | "remote" (the preview's kind).
    virtual const char* kind() const = 0;
    // Whether the model must be named in the start JSON (remote can take it from /v1/models).
    virtual bool requires_model() const { return true; }
    // What the operator allows (launch_policy.h): refuses request fields outside it, fills the
    // operator's settings. Runs before preview() and start(). Remote launches nothing: no-op.
    virtual void apply_policy(serve_settings&, const nlohmann::json& /*start*/) const {}
    // The preview object, built from the same code start() runs.
    virtual nlohmann::json preview(const serve_settings& s, const nlohmann::json& start) const = 0;
    // Launch or connect and block until ready. Returns the base URL for API calls and may update
    // `s` (remote: model from /v1/models). Throws proxy_error; on failure leaves nothing running.
    virtual std::string start(serve_settings& s, const nlohmann::json& start, const start_hooks& hooks) = 0;
    // Called about every 500 ms after a successful start (monitor thread); cheap, non-blocking-ish.
    virtual health_state poll() = 0;
    // Stop and release; idempotent.
    virtual void stop() = 0;
};

using backend_factory = std::unique_ptr<proxy_backend> (*)(const nlohmann::json& config, const host_logger& log);

// Reads a seconds value from start JSON, else create config, else `def`.
std::chrono::milliseconds config_seconds(const nlohmann::json& start, const nlohmann::json& config, const char* key,
                                         double def);

}  // namespace omnihost::proxy
