// openai_mapping.h — turns an OpenAI-style request (the upstream vLLM-Omni server's field names)
// into the playground generate body of a task, which then goes through the one validation path
// (api/generate_request.h) against the serving plugin's manifest. Only names are translated here
// ("input" -> "text", "size" -> width/height, "seconds" -> duration, ...); ranges, defaults and
// unknown fields are the manifest's business, so a refusal still names the field the client sent
// whenever the names agree.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/http_io.h"
#include "api/request_schemas.h"

namespace omnihost {
struct start_plan;

namespace openai {

// True when the schema that will validate `task` for `plan` has `field` (the host's own fields
// or the manifest's "*" / <task> parameters).
bool plan_accepts(const start_plan &plan, task_kind task, const std::string &field);

// The field of the client's request that became `field` of the generate body ("input" for
// "text", "size" for "width", ...), so a refusal names what the client sent.
std::string client_field(const nlohmann::json &in, const std::string &field);
// The same refusal with its field (and the message's leading field name) in the client's terms.
api_error in_client_terms(const nlohmann::json &in, api_error error);

// "model" in a request must name the loaded model (its id or its recipe); absent is fine.
// 404 naming "model" otherwise, like the upstream.
std::optional<api_error> check_model_field(const nlohmann::json &in, const start_plan *plan);

// A multipart form value as JSON: numbers and booleans for fields that are not free text.
nlohmann::json form_value(const std::string &name, const std::string &text);

// POST /v1/videos and /v1/videos/sync -> task video.
std::optional<api_error> map_video_request(const nlohmann::json &in, const start_plan *plan, nlohmann::json &out);
// POST /v1/images/generations -> task image.
std::optional<api_error> map_image_request(const nlohmann::json &in, nlohmann::json &out);
// POST /v1/audio/speech -> task tts.
std::optional<api_error> map_speech_request(const nlohmann::json &in, nlohmann::json &out);
// POST /v1/audio/generate -> task audio.
std::optional<api_error> map_audio_request(const nlohmann::json &in, const start_plan *plan, nlohmann::json &out);
// POST /v1/chat/completions against a chat model -> task chat.
std::optional<api_error> map_chat_request(const nlohmann::json &in, nlohmann::json &out);
// POST /v1/chat/completions against an image model (the upstream's diffusion chat): the user
// messages' text is the prompt, a data: image_url the input image, "extra_body" (or the top
// level) the generation parameters -> task image.
std::optional<api_error> map_diffusion_chat_request(const nlohmann::json &in, nlohmann::json &out);

} // namespace openai
} // namespace omnihost
