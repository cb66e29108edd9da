// Data plane: the four generate endpoints and the SSE chat. The HTTP thread validates, then waits
// while the slot's worker runs the plugin; the control plane stays free meanwhile.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <ostream>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "api/chat_turn.h"
#include "api/client_watch.h"
#include "api/generate_request.h"
#include "api/handlers_generate_sync.h"
#include "api/handlers.h"
#include "services/http_status.h"
#include "api/request_schemas.h"
#include "api/http_io.h"
#include "api/image_inputs.h"
#include "api/operator_limits.h"
#include "common/json_limits.h"

namespace omnihost {
std::optional<generate_call> validate_generate_request(api_context &context, nlohmann::json body, task_kind task,
                                                      api_error &failure) {
    // The wire contract the host owns (prompt/text/messages, seed, job id, task) is checked
    // before readiness, so a malformed body is named even while no model is loaded.
    if (auto error = check_wire_fields(body, task)) {
        failure = api_error{400, error->message, error->field};
        return std::nullopt;
    }
    const slot_snapshot snap = context.slot->snapshot();
    if (snap.state != slot_state::Ready || !snap.plan) {
        std::string message = std::string("model is not ready (state: ") + slot_state_name(snap.state) + ")";
        if (!snap.error.empty()) message += ": " + snap.error;
        failure = api_error{503, message, ""};
        return std::nullopt;
    }
    if (auto refusal = modality_refusal(*snap.plan, task); !refusal.empty()) {
        failure = api_error{409, refusal, ""};
        return std::nullopt;
    }
    const std::string name = task_name(task);
    body.erase("task"); // checked with the wire fields; set again below
    // Input images are checked on their own (decoded, size-limited, matched to what the loaded
    // model takes) and kept out of the manifest schema; they go back in for the plugin below.
    nlohmann::json images;
    if (auto error = take_image_inputs(body, task, snap.health_json, snap.plan->model, context.options.limits, images)) {
        failure = *error;
        return std::nullopt;
    }
    std::vector<std::string> problems;
    field_schema schema = generation_schema(task);
    schema = overlay_manifest_parameters(schema, snap.plan->plugin_parameters.value("*", nlohmann::json::object()), &problems);
    schema = overlay_manifest_parameters(schema, snap.plan->plugin_parameters.value(name, nlohmann::json::object()), &problems);
    // Check what the client sent first (so its mistakes are named), then fill in defaults.
    if (auto error = check_operator_only(body, schema)) {
        failure = api_error{400, error->message, error->field};
        return std::nullopt;
    }
    if (auto error = validate_object(body, schema, false)) {
        failure = api_error{400, error->message, error->field};
        return std::nullopt;
    }
    for (const auto &[key, value] : snap.plan->generation_defaults.items()) {
        const std::string field = request_field_for_default(
            task, key, snap.plan->plugin_parameters.value(name, nlohmann::json::object()));
        if (schema.count(field) && (!body.contains(field) || body[field].is_null()) &&
            !validate_value(value, schema.at(field), field))
            body[field] = value;
    }
    if (auto error = validate_object(body, schema, true)) {
        failure = api_error{400, error->message, error->field};
        return std::nullopt;
    }
    // The operator's ceilings, checked on what will run (defaults included).
    if (auto error = check_generation_limits(body, context.options.limits)) {
        failure = *error;
        return std::nullopt;
    }
    generate_call call;
    call.task = task;
    if (body.contains("job_id") && body["job_id"].is_string()) call.job_id = body["job_id"].get<std::string>();
    body.erase("job_id");
    body["task"] = name;
    restore_image_inputs(body, images);
    call.request = std::move(body);
    return call;
}

namespace {

// Reads the body, then validates it; sends the error and returns nullopt on a refusal.
std::optional<generate_call> prepare_call(api_context &context, server_request &request, server_response &response,
                                         task_kind task) {
    nlohmann::json body;
    if (auto error = read_json_object(request, context.options.max_body_bytes, body, false)) {
        send_error(response, *error);
        return std::nullopt;
    }
    api_error failure;
    auto call = validate_generate_request(context, std::move(body), task, failure);
    if (!call) send_error(response, failure);
    return call;
}

} // namespace

// The media endpoints are thin wrappers over jobs (handlers_generate_sync.cpp).
void handle_generate_image(api_context &c, server_request &rq, server_response &rs) { answer_generation_via_job(c, rq, rs, task_kind::Image); }
void handle_generate_video(api_context &c, server_request &rq, server_response &rs) { answer_generation_via_job(c, rq, rs, task_kind::Video); }
void handle_generate_audio(api_context &c, server_request &rq, server_response &rs) { answer_generation_via_job(c, rq, rs, task_kind::Audio); }
void handle_generate_tts(api_context &c, server_request &rq, server_response &rs) { answer_generation_via_job(c, rq, rs, task_kind::Tts); }

void handle_chat(api_context &context, server_request &request, server_response &response) {
    auto call = prepare_call(context, request, response, task_kind::Chat);
    if (!call) return;
    // Events emitted by the plugin (on the worker) are queued and written by this HTTP thread, so
    // a slow client never stalls the generation.
    struct event_queue {
        std::mutex mutex;
        std::condition_variable cv;
        std::deque<std::string> queue;
        bool any = false;
    };
    auto events = std::make_shared<event_queue>();
    call->emit = [events](const std::string &event_json) {
        {
            std::lock_guard lock(events->mutex);
            events->queue.push_back(event_json);
            events->any = true;
        }
        events->cv.notify_one();
    };
    std::string job_id = call->job_id;
    if (job_id.empty()) {
        static std::atomic<uint64_t> counter{0};
        job_id = "chat-" + std::to_string(++counter);
        call->job_id = job_id;
    }
    // Waits its turn in the job FIFO (api/chat_turn.h); the turn is held until this handler returns.
    jobs::turn_result turn = wait_chat_turn(context.jobs, request, job_id);
    if (turn.http_status != 200) {
        set_retry_after(response, turn);
        send_error(response, {turn.http_status, turn.error, ""});
        return;
    }
    std::future<generate_reply> pending = context.slot->generate_async(std::move(*call));
    std::optional<generate_reply> finished;
    if (pending.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
        finished = pending.get();
        if (finished->refusal.refused()) {
            send_error(response, {http_status_for(finished->refusal.outcome), finished->refusal.error, ""});
            return;
        }
    }
    response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
    response.setContentType("text/event-stream");
    response.set("Cache-Control", "no-cache");
    response.set("X-Job-Id", job_id);
    response.setChunkedTransferEncoding(true);
    std::ostream &out = response.send();
    auto write_event = [&out](const std::string &data) {
        out << "data: " << data << "\n\n";
        out.flush();
    };
    auto drain = [&] {
        std::deque<std::string> batch;
        {
            std::lock_guard lock(events->mutex);
            batch.swap(events->queue);
        }
        for (const auto &event : batch) {
            auto parsed = parse_json_bounded_or_discarded(event);
            write_event(parsed.is_discarded() ? nlohmann::json({{"text", event}}).dump() : parsed.dump());
        }
    };
    disconnect_watch client(request, *context.slot, job_id); // a hang-up cancels the rest
    while (!finished && pending.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
        std::unique_lock lock(events->mutex);
        events->cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return !events->queue.empty(); });
        lock.unlock();
        drain();
        client.check();
    }
    const generate_reply reply = finished ? std::move(*finished) : pending.get();
    drain();
    if (reply.cancelled) {
        write_event(nlohmann::json({{"error", "cancelled"}, {"cancelled", true}}).dump());
    } else if (!reply.status.ok()) {
        write_event(nlohmann::json({{"error", reply.status.message}}).dump());
    } else {
        bool any;
        {
            std::lock_guard lock(events->mutex);
            any = events->any;
        }
        // A plugin that does not stream may put the whole answer into its metadata.
        auto metadata = parse_json_bounded_or_discarded(reply.result.metadata_json);
        if (!any && metadata.is_object() && metadata.contains("text"))
            write_event(nlohmann::json({{"text", metadata["text"]}}).dump());
        if (!reply.result.data.empty() && reply.result.mime_type.rfind("audio/", 0) == 0)
            write_event(nlohmann::json({{"audio", base64_encode(reply.result.data)},
                                        {"audio_format", reply.result.mime_type}}).dump());
    }
    out << "data: [DONE]\n\n";
    out.flush();
}

} // namespace omnihost
