// POST /v1/chat/completions. Against a chat (omni) model: the plugin's streamed events become
// chat.completion.chunk events (stream: true) or one chat.completion. Against an image model:
// the upstream's diffusion chat, answering the image as an image_url content part. Other
// modalities are refused with the route that serves them.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <ostream>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "api/chat_turn.h"
#include "api/client_watch.h"
#include "api/generate_request.h"
#include "services/http_status.h"
#include "common/json_limits.h"
#include "jobs/job_service.h"
#include "metrics/host_metrics.h"
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

std::string completion_id() {
    static std::atomic<uint64_t> counter{0};
    return "chatcmpl-" + std::to_string(unix_now()) + "-" + std::to_string(++counter);
}

// "audio/wav" -> "wav"
std::string audio_format_of(const std::string &mime) {
    const auto slash = mime.find('/');
    return slash == std::string::npos ? mime : mime.substr(slash + 1);
}

// One plugin event ({"text"} or {"audio","audio_format"}) as a chunk's delta; null when neither.
json delta_of(const json &event) {
    if (!event.is_object()) return nullptr;
    if (event.contains("text") && event["text"].is_string()) return {{"content", event["text"]}};
    if (event.contains("audio") && event["audio"].is_string())
        return {{"audio", {{"data", event["audio"]}, {"format", audio_format_of(event.value("audio_format", "audio/wav"))}}}};
    return nullptr;
}

void diffusion_chat(api_context &context, server_request &request, server_response &response, const json &in, const start_plan &plan) {
    if (in.contains("stream") && in["stream"] == true)
        return send_openai_error(response, 400, "stream: image generation through chat does not stream", "stream");
    json body;
    if (auto error = map_diffusion_chat_request(in, body)) return send_openai_error(response, *error);
    api_error failure;
    auto call = validate_generate_request(context, std::move(body), task_kind::Image, failure);
    if (!call) return send_openai_error(response, in_client_terms(in, failure));
    generation_outcome outcome = run_generation(context, request, std::move(*call), plan.model);
    if (outcome.error) return send_openai_error(response, *outcome.error);
    const std::string url = "data:" + (outcome.mime_type.empty() ? std::string("image/png") : outcome.mime_type) +
                            ";base64," + base64_encode(outcome.bytes);
    json message = {{"role", "assistant"},
                    {"content", json::array({{{"type", "image_url"}, {"image_url", {{"url", url}}}}})}};
    send_json(response, 200,
              {{"id", completion_id()},
               {"object", "chat.completion"},
               {"created", unix_now()},
               {"model", plan.model},
               {"choices", json::array({{{"index", 0}, {"message", message}, {"finish_reason", "stop"}}})},
               {"usage", nullptr}});
}

} // namespace

void handle_chat_completions(api_context &context, server_request &request, server_response &response) {
    auto in = read_request_object(context, request, response, false);
    if (!in) return;
    const slot_snapshot snap = context.slot->snapshot();
    const start_plan *plan = snap.plan ? &*snap.plan : nullptr;
    if (auto error = check_model_field(*in, plan)) return send_openai_error(response, *error);
    if (plan && snap.state == slot_state::Ready && plan->model_type == "image") return diffusion_chat(context, request, response, *in, *plan);
    if (plan && snap.state == slot_state::Ready && plan->model_type != "omni") {
        const std::string route = plan->model_type == "video" ? "/v1/videos"
                                  : plan->model_type == "tts" ? "/v1/audio/speech"
                                                              : "/v1/audio/generate";
        return send_openai_error(response, 400, "model `" + plan->model + "` is " + model_type_article(plan->model_type) +
                                                    " model; use " + route, "model");
    }
    const bool stream = in->contains("stream") && (*in)["stream"] == true;
    json body;
    if (auto error = map_chat_request(*in, body)) return send_openai_error(response, *error);
    api_error failure;
    auto call = validate_generate_request(context, std::move(body), task_kind::Chat, failure);
    if (!call) return send_openai_error(response, failure);
    const std::string model = plan ? plan->model : "";
    const std::string id = completion_id();
    const int64_t created = unix_now();

    // Events emitted by the plugin (on the worker) are queued and written by this HTTP thread, so
    // a slow client never stalls the generation.
    struct event_queue {
        std::mutex mutex;
        std::condition_variable cv;
        std::deque<std::string> queue;
    };
    auto events = std::make_shared<event_queue>();
    call->emit = [events](const std::string &event_json) {
        {
            std::lock_guard lock(events->mutex);
            events->queue.push_back(event_json);
        }
        events->cv.notify_one();
    };
    if (call->job_id.empty()) call->job_id = id;
    const std::string job_id = call->job_id;
    // Waits its turn in the job FIFO (api/chat_turn.h); the turn is held until this handler returns.
    jobs::turn_result turn = wait_chat_turn(context.jobs, request, job_id);
    if (turn.http_status != 200) {
        set_retry_after(response, turn);
        return send_openai_error(response, turn.http_status, turn.error);
    }
    std::future<generate_reply> pending = context.slot->generate_async(std::move(*call));
    if (pending.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
        generate_reply refused = pending.get();
        if (refused.refusal.refused())
            return send_openai_error(response, http_status_for(refused.refusal.outcome), refused.refusal.error);
        // Finished at once: answered below from the same reply.
        pending = std::async(std::launch::deferred, [r = std::move(refused)]() mutable { return std::move(r); });
    }
    auto take = [&] {
        std::deque<std::string> batch;
        std::lock_guard lock(events->mutex);
        batch.swap(events->queue);
        return batch;
    };
    auto chunk = [&](const json &delta, const json &finish) {
        return json{{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
                    {"choices", json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}};
    };
    std::ostream *out = nullptr;
    if (stream) {
        response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
        response.setContentType("text/event-stream");
        response.set("Cache-Control", "no-cache");
        response.set("X-Request-Id", job_id);
        response.setChunkedTransferEncoding(true);
        out = &response.send();
        *out << "data: " << chunk({{"role", "assistant"}, {"content", ""}}, nullptr).dump() << "\n\n";
        out->flush();
    }
    std::string text;
    json audio = nullptr;
    auto deliver = [&](const std::string &raw) {
        const json delta = delta_of(parse_json_bounded_or_discarded(raw));
        if (delta.is_null()) return;
        if (delta.contains("content")) text += delta["content"].get<std::string>();
        if (delta.contains("audio")) audio = delta["audio"];
        if (out) {
            *out << "data: " << chunk(delta, nullptr).dump() << "\n\n";
            out->flush();
        }
    };
    disconnect_watch client(request, *context.slot, job_id); // a hang-up cancels the rest
    // `timeout`, not `!= ready`: a reply that came at once sits in a deferred future, whose
    // wait_for answers `deferred` forever.
    while (pending.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout) {
        std::unique_lock lock(events->mutex);
        events->cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return !events->queue.empty(); });
        lock.unlock();
        for (const auto &raw : take()) deliver(raw);
        client.check();
    }
    const generate_reply reply = pending.get();
    turn.turn.reset(); // the slot is free: the queue goes on while this answer is written
    for (const auto &raw : take()) deliver(raw);
    if (context.metrics)
        context.metrics->observe_generation("chat", reply.cancelled ? "cancelled" : reply.status.ok() ? "succeeded" : "failed",
                                            reply.seconds);
    if (reply.status.ok() && !reply.cancelled && text.empty()) {
        // A plugin that does not stream may put the whole answer into its metadata.
        const auto metadata = parse_json_bounded_or_discarded(reply.result.metadata_json);
        if (metadata.is_object() && metadata.contains("text") && metadata["text"].is_string())
            deliver(json({{"text", metadata["text"]}}).dump());
    }
    if (!out) {
        if (reply.cancelled) return send_openai_error(response, 409, "cancelled");
        if (!reply.status.ok())
            return send_openai_error(response, http_status_for(reply.status.code), reply.status.message);
        json message = {{"role", "assistant"}, {"content", text}};
        if (!audio.is_null()) message["audio"] = audio;
        send_json(response, 200,
                  {{"id", id}, {"object", "chat.completion"}, {"created", created}, {"model", model},
                   {"choices", json::array({{{"index", 0}, {"message", message}, {"finish_reason", "stop"}}})},
                   {"usage", nullptr}});
        return;
    }
    if (reply.cancelled || !reply.status.ok()) {
        const int status = reply.cancelled ? 409 : http_status_for(reply.status.code);
        const json error = {{"message", reply.cancelled ? std::string("cancelled") : reply.status.message},
                            {"type", error_type_for(status)}, {"param", nullptr}, {"code", status}};
        *out << "data: " << json({{"error", error}}).dump() << "\n\n";
    } else {
        *out << "data: " << chunk(json::object(), "stop").dump() << "\n\n";
    }
    *out << "data: [DONE]\n\n";
    out->flush();
}

} // namespace omnihost::openai
