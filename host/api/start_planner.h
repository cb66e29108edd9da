// start_planner.h — turns a POST /api/omni/start (or /command-preview) body into a start_plan:
// the recipe's defaults fill missing fields, every field is checked, (model_type, run_mode) is
// routed through the plugin manifests, and the start JSON for the plugin is assembled.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "api/api_context.h"
#include "api/http_io.h"
#include "slot/runtime_slot.h"

namespace omnihost {

struct plan_outcome {
    std::optional<start_plan> plan;
    api_error error; // set when plan is empty
};

plan_outcome plan_start(const api_context &context, nlohmann::json body);

// Values that must never appear in logs or previews: hf_token, remote_api_key (non-empty ones).
std::vector<std::string> secret_values(const nlohmann::json &start_json);

// Replaces every secret value inside strings with "***", and the values of secret-looking keys
// (token, api_key, secret, password) with "***", recursively.
nlohmann::json redact(const nlohmann::json &value, const std::vector<std::string> &secrets);

} // namespace omnihost
