// The synchronous /v1 routes: readiness, the model list, and the generations that answer with
// their media in the response (images as b64_json, audio and /v1/videos/sync as raw bytes).
#include <chrono>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "api/generate_request.h"
#include "common/json_limits.h"
#include "openai/generation_run.h"
#include "openai/openai_errors.h"
#include "openai/openai_handlers.h"
#include "openai/openai_mapping.h"

namespace omnihost::openai {
namespace {

using nlohmann::json;

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool plugin_says_ready(const std::string &health_json) {
    if (health_json.empty()) return true;
    const auto health = parse_json_bounded_or_discarded(health_json, {json_default_max_depth, 1u << 20});
    return !health.is_object() || health.value("ready", true);
}

// Maps, validates and runs one generation; sends the error and returns nullopt on a refusal.
using mapper = std::optional<api_error> (*)(const json &in, const start_plan *plan, json &out);

std::optional<generation_outcome> generate(api_context &context, server_request &request, server_response &response, task_kind task,
                                          bool allow_form, mapper map) {
    auto in = read_request_object(context, request, response, allow_form);
    if (!in) return std::nullopt;
    const slot_snapshot snap = context.slot->snapshot();
    const start_plan *plan = snap.plan ? &*snap.plan : nullptr;
    if (auto error = check_model_field(*in, plan)) {
        send_openai_error(response, *error);
        return std::nullopt;
    }
    json body;
    if (auto error = map(*in, plan, body)) {
        send_openai_error(response, *error);
        return std::nullopt;
    }
    api_error failure;
    auto call = validate_generate_request(context, std::move(body), task, failure);
    if (!call) {
        send_openai_error(response, in_client_terms(*in, failure));
        return std::nullopt;
    }
    generation_outcome outcome = run_generation(context, request, std::move(*call), plan ? plan->model : "");
    if (outcome.error) {
        send_openai_error(response, *outcome.error);
        return std::nullopt;
    }
    return outcome;
}

void send_bytes(server_response &response, const generation_outcome &outcome, const std::string &fallback_mime,
                const std::string &model) {
    response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
    response.setContentType(outcome.mime_type.empty() ? fallback_mime : outcome.mime_type);
    response.set("Cache-Control", "no-cache");
    response.set("X-Request-Id", outcome.id);
    response.set("X-Model", model);
    response.set("X-Inference-Time-S", json(outcome.seconds).dump());
    response.setContentLength(static_cast<std::streamsize>(outcome.bytes.size()));
    response.sendBuffer(outcome.bytes.data(), outcome.bytes.size());
}

std::string loaded_model(api_context &context) {
    const slot_snapshot snap = context.slot->snapshot();
    return snap.plan ? snap.plan->model : "";
}

std::optional<api_error> image_mapper(const json &in, const start_plan *, json &out) { return map_image_request(in, out); }
std::optional<api_error> speech_mapper(const json &in, const start_plan *, json &out) { return map_speech_request(in, out); }

} // namespace

void handle_health(api_context &context, server_request &, server_response &response) {
    // The upstream's readiness probe: 200 once the engine can serve, 503 before.
    const slot_snapshot snap = context.slot->snapshot();
    if (snap.state == slot_state::Ready && plugin_says_ready(snap.health_json)) {
        send_json(response, 200, json::object());
        return;
    }
    std::string message = std::string("no model is ready (state: ") + slot_state_name(snap.state) + ")";
    if (!snap.error.empty()) message += ": " + snap.error;
    send_openai_error(response, 503, message);
}

void handle_models(api_context &context, server_request &, server_response &response) {
    const slot_snapshot snap = context.slot->snapshot();
    json data = json::array();
    if (snap.state == slot_state::Ready && snap.plan) {
        const auto created = unix_now() - std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::steady_clock::now() - snap.started_at).count();
        data.push_back({{"id", snap.plan->model},
                        {"object", "model"},
                        {"created", created},
                        {"owned_by", "omnihost"},
                        {"root", snap.plan->model},
                        {"parent", nullptr},
                        {"max_model_len", nullptr},
                        {"permission", json::array()},
                        {"model_type", snap.plan->model_type}});
    }
    send_json(response, 200, {{"object", "list"}, {"data", data}});
}

void handle_images(api_context &context, server_request &request, server_response &response) {
    auto outcome = generate(context, request, response, task_kind::Image, false, image_mapper);
    if (!outcome) return;
    send_json(response, 200,
              {{"created", unix_now()},
               {"data", json::array({{{"b64_json", base64_encode(outcome->bytes)}, {"url", nullptr}, {"revised_prompt", nullptr}}})}});
}

void handle_speech(api_context &context, server_request &request, server_response &response) {
    auto outcome = generate(context, request, response, task_kind::Tts, false, speech_mapper);
    if (outcome) send_bytes(response, *outcome, "audio/wav", loaded_model(context));
}

void handle_audio_generate(api_context &context, server_request &request, server_response &response) {
    auto outcome = generate(context, request, response, task_kind::Audio, false, map_audio_request);
    if (outcome) send_bytes(response, *outcome, "audio/wav", loaded_model(context));
}

void handle_videos_sync(api_context &context, server_request &request, server_response &response) {
    auto outcome = generate(context, request, response, task_kind::Video, true, map_video_request);
    if (outcome) send_bytes(response, *outcome, "video/mp4", loaded_model(context));
}

} // namespace omnihost::openai
