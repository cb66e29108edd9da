// /api/jobs: submit (202 + id, 429 + Retry-After when the queue is full), list (paged, newest
// first), look up, fetch the output file, and DELETE (cancel a queued or running job; with
// ?purge=true, delete it from history). The body of a submit is a playground generate body plus "task".
#include <charconv>
#include <chrono>
#include <filesystem>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "api/generate_request.h"
#include "api/handlers.h"
#include "api/handlers_jobs.h"
#include "api/http_io.h"
#include "jobs/job_service.h"

namespace omnihost {
namespace {

std::optional<task_kind> job_task(const std::string &name) {
    for (task_kind t : {task_kind::Image, task_kind::Video, task_kind::Audio, task_kind::Tts})
        if (name == task_name(t)) return t;
    return std::nullopt;
}

bool jobs_available(api_context &context, server_response &response) {
    if (context.jobs) return true;
    send_error(response, {503, "jobs are not available on this host", ""});
    return false;
}

// Query parameters of GET /api/jobs; 400 naming the parameter when malformed.
std::optional<api_error> read_query(const server_request &request, jobs::job_query &query) {
    Poco::URI::QueryParameters parameters;
    try {
        parameters = Poco::URI(request.getURI()).getQueryParameters();
    } catch (const Poco::SyntaxException &) { // a bad %-escape is the client's error, not ours
        return api_error{400, "query: malformed %-escape in the query string", "query"};
    }
    for (const auto &[key, value] : parameters) {
        if (key == "limit" || key == "before") {
            int64_t number = 0;
            auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
            if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || number < 0)
                return api_error{400, key + ": must be a non-negative integer", key};
            if (key == "limit") {
                if (number < 1 || number > 500) return api_error{400, "limit: must be 1..500", "limit"};
                query.limit = static_cast<int>(number);
            } else {
                query.before = number;
            }
        } else if (key == "state") {
            query.state = jobs::parse_job_state(value);
            if (!query.state)
                return api_error{400, "state: must be one of queued, running, succeeded, failed, cancelled", "state"};
        } else if (key == "task") {
            if (!job_task(value)) return api_error{400, "task: must be one of image, video, audio, tts", "task"};
            query.task = value;
        } else if (key == "token") {
            // the WebSocket-style token parameter: already checked by the router
        } else {
            return api_error{400, key + ": unknown query parameter (limit, before, state, task)", key};
        }
    }
    return std::nullopt;
}

// How long DELETE ?purge=true waits for a running job's cancel to settle before it answers that
// nothing was removed yet (the same bound as DELETE /v1/videos/{id}).
constexpr std::chrono::milliseconds kCancelSettle{2000};

// DELETE /api/jobs/{id} cancels: a queued job (200 cancelled) or a running one (202
// cancel_requested); a job that already finished keeps its result (409 already_finished, with
// its state). ?purge=true deletes instead: cancelled first when unfinished, then removed from
// history with its output (200 removed; 202 removed:false when a running job did not stop in time).
void delete_job(api_context &context, server_request &request, server_response &response, const std::string &id) {
    Poco::URI::QueryParameters parameters;
    try {
        parameters = Poco::URI(request.getURI()).getQueryParameters();
    } catch (const Poco::SyntaxException &) {
        send_error(response, {400, "query: malformed %-escape in the query string", "query"});
        return;
    }
    bool purge = false;
    for (const auto &[key, value] : parameters) {
        if (key == "purge") {
            if (value != "true" && value != "false") {
                send_error(response, {400, "purge: must be true or false", "purge"});
                return;
            }
            purge = value == "true";
        } else if (key != "token") { // the WebSocket-style token parameter: already checked by the router
            send_error(response, {400, key + ": unknown query parameter (purge)", key});
            return;
        }
    }
    if (purge) {
        const jobs::delete_result deleted = jobs::cancel_then_remove(*context.jobs, id, kCancelSettle);
        switch (deleted.removed) {
        case jobs::remove_outcome::NotFound: send_error(response, {404, "no job '" + id + "'", ""}); return;
        case jobs::remove_outcome::Removed: send_json(response, 200, {{"id", id}, {"outcome", "removed"}}); return;
        case jobs::remove_outcome::NotFinished:
            send_json(response, 202,
                      {{"id", id}, {"outcome", "cancel_requested"}, {"removed", false},
                       {"state", deleted.job ? jobs::job_state_name(deleted.job->state) : "running"},
                       {"message", "cancel requested; the job has not stopped yet (DELETE ?purge=true again once it is cancelled)"}});
            return;
        }
        return;
    }
    switch (context.jobs->cancel(id)) {
    case jobs::job_cancel_outcome::NotFound: send_error(response, {404, "no job '" + id + "'", ""}); return;
    case jobs::job_cancel_outcome::Cancelled: send_json(response, 200, {{"id", id}, {"outcome", "cancelled"}}); return;
    case jobs::job_cancel_outcome::CancelRequested:
        send_json(response, 202, {{"id", id}, {"outcome", "cancel_requested"}});
        return;
    case jobs::job_cancel_outcome::AlreadyFinished: {
        const auto job = context.jobs->get(id);
        const std::string state = job ? jobs::job_state_name(job->state) : "removed";
        send_json(response, 409,
                  {{"success", false},
                   {"id", id},
                   {"outcome", "already_finished"},
                   {"state", state},
                   {"error", "job '" + id + "' already finished (" + state +
                                 "); nothing to cancel, its result is kept. DELETE /api/jobs/" + id +
                                 "?purge=true removes it from history"}});
        return;
    }
    }
}

} // namespace

job_submit_outcome submit_generation_job(api_context &context, nlohmann::json body, task_kind task) {
    job_submit_outcome outcome;
    if (!context.jobs) {
        outcome.failure = {503, "jobs are not available on this host", ""};
        return outcome;
    }
    auto call = validate_generate_request(context, std::move(body), task, outcome.failure);
    if (!call) return outcome;
    const slot_snapshot snap = context.slot->snapshot();
    jobs::job_submission submission;
    submission.id = call->job_id;
    submission.task = task_name(task);
    submission.model = snap.plan ? snap.plan->model : "";
    submission.request = std::move(call->request);
    const jobs::submit_result result = context.jobs->submit(std::move(submission));
    if (result.http_status != 202) {
        outcome.failure = {result.http_status, result.error, result.field};
        outcome.retry_after_s = result.retry_after_s;
        return outcome;
    }
    outcome.queued = true;
    outcome.id = result.id;
    outcome.position = result.position;
    return outcome;
}

void send_submit_failure(server_response &response, const job_submit_outcome &outcome) {
    if (outcome.failure.status == 429) response.set("Retry-After", std::to_string(std::max(1, outcome.retry_after_s)));
    send_error(response, outcome.failure);
}

void handle_jobs(api_context &context, server_request &request, server_response &response) {
    if (!jobs_available(context, response)) return;
    if (request.getMethod() == "GET") {
        jobs::job_query query;
        if (auto error = read_query(request, query)) {
            send_error(response, *error);
            return;
        }
        const jobs::job_page page = context.jobs->list(query);
        nlohmann::json items = nlohmann::json::array();
        for (const auto &job : page.items) items.push_back(jobs::job_to_json(job, false));
        send_json(response, 200,
                  {{"items", items},
                   {"total", page.total},
                   {"next_before", page.next_before > 0 ? nlohmann::json(page.next_before) : nlohmann::json(nullptr)}});
        return;
    }
    nlohmann::json body;
    if (auto error = read_json_object(request, context.options.max_body_bytes, body, false)) {
        send_error(response, *error);
        return;
    }
    if (!body.is_object() || !body.contains("task") || !body["task"].is_string()) {
        send_error(response, {400, body.contains("task") ? "task: must be a string (image, video, audio or tts)"
                                                         : "task: is required (image, video, audio or tts)", "task"});
        return;
    }
    const std::string name = body["task"].get<std::string>();
    const auto task = job_task(name);
    if (!task) {
        send_error(response, {400, name == "chat" ? "task: chat streams its answer; use POST /api/omni/chat"
                                                  : "task: must be one of image, video, audio, tts",
                              "task"});
        return;
    }
    const job_submit_outcome submitted = submit_generation_job(context, std::move(body), *task);
    if (!submitted.queued) {
        send_submit_failure(response, submitted);
        return;
    }
    response.set("Location", "/api/jobs/" + submitted.id);
    send_json(response, 202,
              {{"id", submitted.id}, {"state", "queued"}, {"position", submitted.position},
               {"url", "/api/jobs/" + submitted.id}});
}

void handle_job_item(api_context &context, server_request &request, server_response &response) {
    if (!jobs_available(context, response)) return;
    const std::string uri = request.getURI();
    std::string path = uri.substr(0, uri.find_first_of("?#"));
    std::string rest = path.substr(std::string("/api/jobs/").size());
    bool wants_output = false;
    if (const auto slash = rest.find('/'); slash != std::string::npos) {
        if (rest.substr(slash) != "/output") {
            send_error(response, {404, "no API endpoint " + path, ""});
            return;
        }
        wants_output = true;
        rest.resize(slash);
    }
    if (!jobs::valid_job_id(rest)) {
        send_error(response, {404, "no job '" + rest.substr(0, 80) + "'", ""});
        return;
    }
    const std::string &id = rest;
    if (request.getMethod() == "DELETE") {
        if (wants_output) {
            send_error(response, {405, "method DELETE not allowed on " + path + " (use GET)", ""});
            return;
        }
        delete_job(context, request, response, id);
        return;
    }
    const auto job = context.jobs->get(id);
    if (!job) {
        send_error(response, {404, "no job '" + id + "'", ""});
        return;
    }
    if (!wants_output) {
        send_json(response, 200, jobs::job_to_json(*job, true));
        return;
    }
    if (job->state != jobs::job_phase::Succeeded) {
        send_error(response, {409, std::string("job '") + id + "' has no output (state: " + jobs::job_state_name(job->state) + ")", ""});
        return;
    }
    std::error_code ec;
    if (job->output.evicted || job->output.path.empty() || !std::filesystem::is_regular_file(job->output.path, ec)) {
        send_error(response, {410, "job '" + id + "': its output was removed (disk quota or by hand)", ""});
        return;
    }
    // Not immutable: a client may DELETE a finished job and submit its job_id again, and the
    // same URL then serves other bytes. no-cache keeps the browser from showing the old file.
    response.set("Cache-Control", "private, no-cache");
    response.sendFile(job->output.path, job->output.mime_type.empty() ? "application/octet-stream" : job->output.mime_type);
}

} // namespace omnihost
