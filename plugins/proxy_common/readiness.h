// Readiness of an upstream vLLM-Omni: GET /health answering 200, else GET /v1/models answering 200
// (a /health-less gateway, or vLLM-Omni builds whose /health fails in diffusion mode).
#pragma once

#include "http_client.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace omnihost::proxy {

struct probe_result {
    bool ready = false;
    std::string via;        // "/health" or "/v1/models"
    std::string detail;     // why not ready ("connection refused", "/health answered 503", ...)
    bool auth_failed = false;  // 401/403 from either endpoint
    nlohmann::json models = nlohmann::json::array();  // [{id, owned_by, max_model_len, root}] when read
};

// One probe round. `want_models` also reads /v1/models after a good /health.
probe_result probe_upstream(const upstream_client& client, std::chrono::milliseconds timeout, bool want_models,
                           const cancel_poll& cancelled = {});

struct wait_hooks {
    std::function<bool()> cancelled;
    // Returns a non-empty reason when the server can no longer become ready (process exited).
    std::function<std::string()> dead_reason;
    std::function<void(int elapsed_s, const std::string& message)> progress;
};

// Polls until ready. Throws proxy_error: CANCELLED, UNAVAILABLE (dead / timed out).
probe_result wait_until_ready(const upstream_client& client, std::chrono::milliseconds start_timeout,
                             std::chrono::milliseconds probe_timeout, const wait_hooks& hooks);

}  // namespace omnihost::proxy

namespace omnihost::proxy {
// True when something accepts TCP connections on 127.0.0.1:port (a leftover server would otherwise
// be mistaken for the one just launched).
bool local_port_in_use(int port);
}  // namespace omnihost::proxy
