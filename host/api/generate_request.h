// generate_request.h — the one validation path of a generate body: the host's wire fields, the
// loaded plan's readiness and modality, the serving plugin's manifest parameters, the recipe's
// generation defaults and the operator's limits. The playground endpoints and the OpenAI-style
// routes (host/openai) both call it, so a parameter is checked by one schema whatever the route.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "api/api_context.h"
#include "api/http_io.h"

namespace omnihost {

// Returns the call to hand to the slot (defaults filled, "task" set), or nullopt with `failure`
// set: 400 naming the field, 503 when no model is ready, 409 when the model serves another modality.
std::optional<generate_call> validate_generate_request(api_context &context, nlohmann::json body, task_kind task,
                                                      api_error &failure);

} // namespace omnihost
