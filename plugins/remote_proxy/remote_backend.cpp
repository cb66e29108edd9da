// remote_proxy: connects to an already running vLLM-Omni (any model type). The connect probes
// /health then /v1/models with the bearer key; an unreachable server or a refused key fails the
// start (the playground reported success anyway). Health keeps probing every few seconds.
#include "http_client.h"
#include "json_fields.h"
#include "proxy_instance.h"
#include "readiness.h"
#include "remote_url.h"

#include <memory>
#include <mutex>

using nlohmann::json;
using namespace omnihost::proxy;

namespace {

class remote_backend final : public proxy_backend {
public:
    remote_backend(json config, host_logger log) : config_(std::move(config)), log_(std::move(log)) {}

    const char* kind() const override { return "remote"; }
    bool requires_model() const override { return false; }

    json preview(const serve_settings& s, const json&) const override {
        const std::string base = normalize_remote_url(s.remote_url);
        std::vector<std::string> argv = {"curl", "-sf"};
        if (!s.remote_api_key.empty()) argv.insert(argv.end(), {"-H", "Authorization: Bearer ***"});
        argv.push_back(base + "/health");
        return {{"kind", "remote"},
                {"argv", argv},
                {"env", json::object()},
                {"command", shell_command({}, argv)},
                {"base_url", base},
                {"api_endpoint", base + "/v1/chat/completions"},
                {"probes", {base + "/health", base + "/v1/models"}},
                {"settings", settings_json(s)}};
    }

    std::string start(serve_settings& s, const json& start, const start_hooks& hooks) override {
        bool stripped = false;
        const std::string base = normalize_remote_url(s.remote_url, &stripped);
        if (stripped)
            log_(OMNIHOST_LOG_INFO, "Normalized remote URL to server root: " + base + " (was OpenAI-style /v1 base)");
        auto connect_timeout = config_seconds(start, config_, "connect_timeout_s", 10.0);
        probe_timeout_ = config_seconds(start, config_, "health_timeout_s", 3.0);
        auto client = std::make_shared<upstream_client>(base, s.remote_api_key);
        hooks.progress(0, 0, "connecting to " + base);
        probe_result r = probe_upstream(*client, connect_timeout, true, hooks.cancelled);
        if (r.auth_failed)
            throw proxy_error(OMNIHOST_UNAVAILABLE, "remote vLLM-Omni at " + base + " refused the API key (" + r.detail +
                                                       "); check remote_api_key");
        if (!r.ready)
            throw proxy_error(OMNIHOST_UNAVAILABLE, "Cannot reach remote vLLM-Omni at " + base + ": " + r.detail);
        log_(OMNIHOST_LOG_INFO, r.via == "/health" ? "Remote health check passed"
                                                   : "Using /v1/models as health signal (/health not OK)");
        std::vector<std::string> ids;
        for (const auto& m : r.models) ids.push_back(m["id"].get<std::string>());
        if (!ids.empty()) {
            std::string list;
            for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
            log_(OMNIHOST_LOG_INFO, "Remote models: " + list);
            if (r.models[0]["max_model_len"].is_number())
                log_(OMNIHOST_LOG_INFO, "Max context length: " + r.models[0]["max_model_len"].dump());
            if (s.model.empty()) {
                s.model = ids[0];
            } else if (std::find(ids.begin(), ids.end(), s.model) == ids.end()) {
                log_(OMNIHOST_LOG_WARN, "model " + s.model + " is not served by the remote; using " + ids[0]);
                s.model = ids[0];
            }
        } else if (s.model.empty()) {
            throw invalid_field("model", "the remote lists no models (/v1/models); name the model in the start request");
        }
        std::lock_guard lock(mutex_);
        client_ = client;
        models_ = r.models;
        via_ = r.via;
        base_ = base;
        polls_ = 0;
        last_ok_ = true;
        last_detail_.clear();
        log_(OMNIHOST_LOG_INFO, "Connected to remote vLLM-Omni at " + base);
        return base;
    }

    health_state poll() override {
        std::shared_ptr<upstream_client> client;
        {
            std::lock_guard lock(mutex_);
            client = client_;
        }
        health_state h;
        if (!client) {
            h.message = "not connected";
            return h;
        }
        if (++polls_ % 10 == 0) {  // about every 5 s
            probe_result r = probe_upstream(*client, probe_timeout_, false);
            last_ok_ = r.ready;
            last_detail_ = r.detail;
        }
        std::lock_guard lock(mutex_);
        h.ready = last_ok_;
        h.message = last_ok_ ? "connected to " + base_ : "remote not answering: " + last_detail_;
        h.extras = {{"models", models_}, {"base_url", base_}, {"health_via", via_}};
        if (!models_.empty() && models_[0]["max_model_len"].is_number()) h.extras["max_model_len"] = models_[0]["max_model_len"];
        return h;
    }

    void stop() override {
        std::lock_guard lock(mutex_);
        if (client_) log_(OMNIHOST_LOG_INFO, "Disconnected from remote instance " + base_);
        client_.reset();
        models_ = json::array();
    }

private:
    json config_;
    host_logger log_;
    std::mutex mutex_;
    std::shared_ptr<upstream_client> client_;
    json models_ = json::array();
    std::string via_, base_;
    std::chrono::milliseconds probe_timeout_{3000};
    int polls_ = 0;
    bool last_ok_ = true;
    std::string last_detail_;
};

std::unique_ptr<proxy_backend> make_backend(const json& config, const host_logger& log) {
    return std::make_unique<remote_backend>(config, log);
}

}  // namespace

OMNIHOST_PROXY_PLUGIN("remote_proxy", "0.1.0", make_backend)
