// operator_limits.h — the operator's ceilings on one generation (frames, pixels, steps, duration,
// outputs per request). They come from host options only; a request may ask for less, never more,
// and a refusal is a 400 naming the request field. Plugin schemas (manifests) still say what a
// model accepts; these say what this host is willing to spend on one request.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "api/http_io.h"
#include "config/host_options.h"

namespace omnihost {

// Checks a generate request after validation and defaults: num_inference_steps, height x width,
// video frames (num_frames, else duration x fps), duration / audio_duration, outputs per request,
// and any max_* field the request carries.
std::optional<api_error> check_generation_limits(const nlohmann::json &request, const operator_limits &limits);

// For a start: every limit the plugin declares as a start parameter (max_pixels, max_frames,
// max_steps, max_duration, max_samples) is set in `start_json` to the request's value when it
// asked for less, else to the operator's value; a request asking for more gets 400.
// `request` is the start body as the client sent it.
std::optional<api_error> apply_start_limits(nlohmann::json &start_json, const nlohmann::json &request,
                                           const nlohmann::json &plugin_start_parameters,
                                           const operator_limits &limits);

// {"max_frames":..,"max_pixels":..,...} for the status answer (the UI can cap its controls).
nlohmann::json limits_json(const operator_limits &limits);

} // namespace omnihost
