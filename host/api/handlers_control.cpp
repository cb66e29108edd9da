// Control plane: status, health, start, stop, cancel. All answer at once; loading and unloading
// happen on the runtime slot's worker.
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "api/handlers.h"
#include "jobs/job_service.h"
#include "services/http_status.h"
#include "api/request_schemas.h"
#include "api/http_io.h"
#include "api/image_inputs.h"
#include "api/operator_limits.h"
#include "api/start_planner.h"
#include "common/json_limits.h"

namespace omnihost {
namespace {

// A health answer is a small object; anything larger or deeper is treated as no answer.
constexpr json_limits kPluginAnswerLimits{json_default_max_depth, 1u << 20};

std::string format_uptime(std::chrono::steady_clock::duration elapsed) {
    const auto total = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
    return std::to_string(total / 3600) + "h " + std::to_string((total / 60) % 60) + "m " +
           std::to_string(total % 60) + "s";
}

nlohmann::json progress_json(const progress_view &view) {
    return {{"step", view.step}, {"total", view.total}, {"phase", view.phase}, {"message", view.message}};
}

// The plugin's health answer says whether the backend behind a "ready" slot can serve now
// (a proxy's upstream can go away for a while without the slot failing).
bool plugin_says_ready(const std::string &health_json, std::string *message) {
    if (health_json.empty()) return true;
    auto health = parse_json_bounded_or_discarded(health_json, kPluginAnswerLimits);
    if (!health.is_object()) return true;
    if (message) *message = health.value("message", std::string());
    return health.value("ready", true);
}

} // namespace

void handle_status(api_context &context, server_request &, server_response &response) {
    const slot_snapshot snap = context.slot->snapshot();
    const bool running = snap.state == slot_state::Starting || snap.state == slot_state::Ready ||
                         snap.state == slot_state::Stopping;
    const bool ready = snap.state == slot_state::Ready && plugin_says_ready(snap.health_json, nullptr);
    nlohmann::json body = {{"running", running},
                           {"ready", ready},
                           {"state", slot_state_name(snap.state)},
                           {"model", nullptr},
                           {"model_type", nullptr},
                           {"port", nullptr},
                           {"run_mode", nullptr},
                           {"plugin", nullptr},
                           {"recipe", nullptr},
                           {"uptime", nullptr},
                           {"error", snap.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(snap.error)},
                           {"load", nullptr},
                           {"job", nullptr},
                           {"health", nullptr},
                           {"image_input", nullptr},
                           {"device_memory", nullptr},
                           {"limits", limits_json(context.options.limits)}};
    if (snap.plan) {
        body["model"] = snap.plan->model;
        body["model_type"] = snap.plan->model_type;
        body["port"] = snap.plan->port;
        body["run_mode"] = snap.plan->plugin_kind == "inprocess" ? "inprocess" : snap.plan->run_mode;
        body["plugin"] = snap.plan->plugin_id;
        if (!snap.plan->recipe_id.empty()) body["recipe"] = snap.plan->recipe_id;
        if (running) body["uptime"] = format_uptime(std::chrono::steady_clock::now() - snap.started_at);
        // The plugin's own last health answer (e.g. a remote's model ids and max_model_len), for
        // the UI's server-info panel; secrets of the start request are redacted.
        auto health = parse_json_bounded_or_discarded(snap.health_json, kPluginAnswerLimits);
        if (health.is_object()) body["health"] = redact(health, secret_values(snap.plan->start_json));
        // The in-process plugins' peak device memory (device, measure, load/last-job peaks, now),
        // for the status line; null where the plugin does not report it.
        if (health.is_object() && health.contains("device_memory") && health["device_memory"].is_object())
            body["device_memory"] = body["health"]["device_memory"];
        // What the loaded model takes as input images (null until its plugin has answered).
        if (snap.state == slot_state::Ready) body["image_input"] = image_input_modes(snap.health_json);
    }
    if (snap.load) body["load"] = progress_json(*snap.load);
    if (snap.job) {
        body["job"] = progress_json(snap.job->progress);
        body["job"]["id"] = snap.job->id;
        body["job"]["task"] = snap.job->task;
        body["job"]["started_at"] = snap.job->started_at;
    }
    send_json(response, 200, body);
}

void handle_health(api_context &context, server_request &, server_response &response) {
    const slot_snapshot snap = context.slot->snapshot();
    switch (snap.state) {
    case slot_state::Idle:
        send_json(response, 200, {{"success", false}, {"ready", false}, {"error", "Server not running"}});
        return;
    case slot_state::Starting:
        send_json(response, 200, {{"success", false}, {"ready", false}, {"message", "Model is loading"}});
        return;
    case slot_state::Stopping:
        send_json(response, 200, {{"success", false}, {"ready", false}, {"error", "Model is stopping"}});
        return;
    case slot_state::Failed:
        send_json(response, 200, {{"success", false}, {"ready", false}, {"error", snap.error}});
        return;
    case slot_state::Ready: break;
    }
    std::string message;
    const bool ready = plugin_says_ready(snap.health_json, &message);
    if (ready) {
        if (message.empty())
            message = snap.plan && snap.plan->plugin_kind == "inprocess" ? "In-process model is ready"
                                                                         : "Server is healthy";
        send_json(response, 200, {{"success", true}, {"ready", true}, {"message", message}});
    } else {
        send_json(response, 200, {{"success", false}, {"ready", false},
                                  {"error", message.empty() ? "backend not ready" : message}});
    }
}

void handle_start(api_context &context, server_request &request, server_response &response) {
    nlohmann::json body;
    if (auto error = read_json_object(request, context.options.max_body_bytes, body, false)) {
        send_error(response, *error);
        return;
    }
    plan_outcome outcome = plan_start(context, std::move(body));
    if (!outcome.plan) {
        send_error(response, outcome.error);
        return;
    }
    const start_plan plan = *outcome.plan;
    const slot_reply reply = context.slot->start(*outcome.plan);
    if (reply.refused()) {
        send_error(response, {http_status_for(reply.outcome), reply.error, ""});
        return;
    }
    send_json(response, http_status_for(reply.outcome),
              {{"status", "starting"},
               {"mode", plan.plugin_kind == "inprocess" ? "inprocess" : plan.run_mode},
               {"run_mode", plan.run_mode},
               {"model", plan.model},
               {"model_type", plan.model_type},
               {"plugin", plan.plugin_id},
               {"recipe", plan.recipe_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(plan.recipe_id)},
               {"port", plan.port}});
}

void handle_stop(api_context &context, server_request &request, server_response &response) {
    // No fields are read, but a body must still be a JSON object (or empty) like every other:
    // one rule for every POST, checked by the same bounded parser.
    nlohmann::json ignored;
    if (auto error = read_json_object(request, context.options.max_body_bytes, ignored, true)) {
        send_error(response, *error);
        return;
    }
    // Wait a little so the common case (a quick unload) answers "stopped"; a slow unload
    // answers 202 "stopping" and /status shows when it is done.
    const slot_reply reply = context.slot->stop(std::chrono::milliseconds(3000));
    if (reply.refused()) {
        send_error(response, {http_status_for(reply.outcome), reply.error, ""});
        return;
    }
    send_json(response, http_status_for(reply.outcome),
              {{"status", reply.outcome == slot_outcome::done ? "stopped" : "stopping"}});
}

void handle_cancel(api_context &context, server_request &request, server_response &response) {
    nlohmann::json body;
    if (auto error = read_json_object(request, context.options.max_body_bytes, body, true)) {
        send_error(response, *error);
        return;
    }
    std::string job_id;
    for (const auto &[key, value] : body.items()) {
        if (key != "job_id") {
            send_error(response, {400, key + ": unknown field", key});
            return;
        }
        if (value.is_null()) continue;
        if (!value.is_string()) {
            send_error(response, {400, "job_id: must be a string (got " + json_type_name(value) + ")", "job_id"});
            return;
        }
        job_id = value.get<std::string>();
        if (auto problem = check_job_id(job_id); !problem.empty()) {
            send_error(response, {400, "job_id: " + problem, "job_id"});
            return;
        }
    }
    const slot_reply reply = context.slot->cancel(job_id);
    // Not running in the slot but waiting in the job queue: cancelled there.
    if (reply.outcome == slot_outcome::no_such_job && !job_id.empty() && context.jobs &&
        context.jobs->cancel_if_pending(job_id)) {
        send_json(response, 200, {{"cancelled", true}, {"job_id", job_id}});
        return;
    }
    if (reply.refused()) {
        send_error(response, {http_status_for(reply.outcome), reply.error, job_id.empty() ? "" : "job_id"});
        return;
    }
    send_json(response, http_status_for(reply.outcome), {{"cancelled", true}, {"job_id", reply.job_id}});
}

} // namespace omnihost
