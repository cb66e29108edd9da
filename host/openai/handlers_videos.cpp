// The upstream's asynchronous videos API on the host's job queue: POST /v1/videos queues a job
// and answers its VideoResponse; GET /v1/videos[/{id}] read the job records; DELETE deletes the
// video (cancelling it first when unfinished); /content streams the finished video file.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <utility>
#include <vector>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "api/generate_request.h"
#include "jobs/job_service.h"
#include "openai/openai_errors.h"
#include "openai/openai_handlers.h"
#include "openai/openai_mapping.h"

namespace omnihost::openai {
namespace {

using nlohmann::json;

std::string path_of(const server_request &request) {
    const std::string &uri = request.getURI();
    return uri.substr(0, uri.find_first_of("?#"));
}

bool have_jobs(api_context &context, server_response &response) {
    if (context.jobs) return true;
    send_openai_error(response, 503, "this host runs without a job queue; use POST /v1/videos/sync");
    return false;
}

using query_parameters = std::vector<std::pair<std::string, std::string>>;

// How long DELETE of an unfinished video waits for its cancel to settle before it answers that
// the video is not deleted yet; the upstream bounds its engine abort the same way (2 s default).
constexpr std::chrono::milliseconds kCancelSettle{2000};

// The %-decoded query parameters. A malformed %-escape is the client's error: 400 naming the
// parameter it is in (Poco::URI's parser only throws "Bad URI syntax", which surfaced as a 500).
std::optional<api_error> read_query(const server_request &request, query_parameters &out) {
    const std::string &uri = request.getURI();
    const auto mark = uri.find('?');
    if (mark == std::string::npos) return std::nullopt;
    const std::string query = uri.substr(mark + 1, uri.find('#', mark) - mark - 1);
    size_t at = 0;
    while (at <= query.size()) {
        const size_t end = std::min(query.find('&', at), query.size());
        const std::string piece = query.substr(at, end - at);
        at = end + 1;
        if (piece.empty()) continue;
        const auto equals = piece.find('=');
        std::string key, value;
        try {
            Poco::URI::decode(piece.substr(0, equals), key, true);
        } catch (const Poco::SyntaxException &) {
            return api_error{400, "query: malformed %-escape in a parameter name", "query"};
        }
        try {
            if (equals != std::string::npos) Poco::URI::decode(piece.substr(equals + 1), value, true);
        } catch (const Poco::SyntaxException &) {
            return api_error{400, key + ": malformed %-escape in its value", key};
        }
        out.emplace_back(std::move(key), std::move(value));
    }
    return std::nullopt;
}

json seconds_or_null(int64_t ms) { return ms > 0 ? json(ms / 1000) : json(nullptr); }

// A job record as the upstream's VideoResponse.
json video_json(const jobs::stored_job &job) {
    std::string status = "queued";
    json error = nullptr;
    switch (job.state) {
    case jobs::job_phase::Queued: status = "queued"; break;
    case jobs::job_phase::Running: status = "in_progress"; break;
    case jobs::job_phase::Succeeded: status = "completed"; break;
    case jobs::job_phase::Failed:
        status = "failed";
        error = {{"code", "generation_failed"}, {"message", job.error}};
        break;
    case jobs::job_phase::Cancelled:
        status = "failed";
        error = {{"code", "cancelled"}, {"message", job.error.empty() ? "cancelled" : job.error}};
        break;
    }
    int progress = 0;
    if (job.state == jobs::job_phase::Succeeded) progress = 100;
    else if (job.state == jobs::job_phase::Running && job.progress.total > 0)
        progress = static_cast<int>(100.0 * job.progress.step / job.progress.total);
    const json &request = job.request;
    json size = nullptr;
    if (request.contains("width") && request.contains("height") && request["width"].is_number() && request["height"].is_number())
        size = request["width"].dump() + "x" + request["height"].dump();
    json seconds = nullptr;
    if (request.contains("duration") && request["duration"].is_number()) seconds = request["duration"].dump();
    json inference = nullptr;
    if (job.started_ms > 0 && job.finished_ms >= job.started_ms)
        inference = static_cast<double>(job.finished_ms - job.started_ms) / 1000.0;
    return {{"id", job.id},
            {"object", "video"},
            {"status", status},
            {"model", job.model},
            {"prompt", request.value("prompt", json(nullptr))},
            {"size", size},
            {"progress", progress},
            {"seconds", seconds},
            {"quality", "default"},
            {"created_at", seconds_or_null(job.created_ms)},
            {"completed_at", jobs::is_terminal(job.state) ? seconds_or_null(job.finished_ms) : json(nullptr)},
            {"error", error},
            // The type of the file /content serves; null while (or when) there is none.
            {"media_type", job.output.mime_type.empty() ? json(nullptr) : json(job.output.mime_type)},
            {"expires_at", nullptr},
            {"file_name", nullptr},
            {"inference_time_s", inference},
            {"stage_durations", json::object()},
            {"peak_memory_mb", 0.0}};
}

} // namespace

void handle_videos_create(api_context &context, server_request &request, server_response &response) {
    auto in = read_request_object(context, request, response, true);
    if (!in || !have_jobs(context, response)) return;
    const slot_snapshot snap = context.slot->snapshot();
    const start_plan *plan = snap.plan ? &*snap.plan : nullptr;
    if (auto error = check_model_field(*in, plan)) return send_openai_error(response, *error);
    json body;
    if (auto error = map_video_request(*in, plan, body)) return send_openai_error(response, *error);
    api_error failure;
    auto call = validate_generate_request(context, std::move(body), task_kind::Video, failure);
    if (!call) return send_openai_error(response, in_client_terms(*in, failure));
    jobs::job_submission submission;
    submission.id = call->job_id;
    submission.task = "video";
    submission.model = plan ? plan->model : "";
    submission.request = std::move(call->request);
    const jobs::submit_result submitted = context.jobs->submit(std::move(submission));
    if (submitted.http_status >= 400) {
        if (submitted.http_status == 429 && submitted.retry_after_s > 0)
            response.set("Retry-After", std::to_string(submitted.retry_after_s));
        return send_openai_error(response, submitted.http_status, submitted.error, submitted.field);
    }
    const auto record = context.jobs->get(submitted.id);
    if (!record) return send_openai_error(response, 500, "the queued job disappeared");
    send_json(response, 200, video_json(*record));
}

// GET /v1/videos: ?limit=1..500, ?order=desc (newest first, the default) or asc, ?after=<id of
// the last video of the previous page>. Every page is one keyset query of the store (the cursor
// id's place found through its index), however long the history.
void handle_videos_list(api_context &context, server_request &request, server_response &response) {
    if (!have_jobs(context, response)) return;
    query_parameters parameters;
    if (auto error = read_query(request, parameters)) return send_openai_error(response, *error);
    int limit = jobs::job_query{}.limit;
    bool ascending = false;
    std::string after;
    for (const auto &[key, value] : parameters) {
        if (key == "limit") {
            int number = 0;
            const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
            if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || number < 1 || number > 500)
                return send_openai_error(response, 400, "limit: must be a whole number from 1 to 500", "limit");
            limit = number;
        } else if (key == "order") {
            if (value != "asc" && value != "desc")
                return send_openai_error(response, 400, "order: must be asc or desc", "order");
            ascending = value == "asc";
        } else if (key == "after") {
            if (!jobs::valid_job_id(value))
                return send_openai_error(response, 400, "after: must be the id of a video", "after");
            after = value;
        } else {
            return send_openai_error(response, 400, key + ": unknown query parameter (limit, order, after)", key);
        }
    }
    jobs::job_query query;
    query.task = "video";
    query.with_request = true;
    query.with_total = false;
    query.limit = limit;
    query.ascending = ascending;
    query.after_id = after;
    jobs::job_page page = context.jobs->list(query);
    if (page.after_unknown) return send_openai_error(response, 400, "after: no video with that id", "after");
    const std::vector<jobs::stored_job> &items = page.items;
    const bool has_more = page.has_more;
    json data = json::array();
    for (const auto &job : items) data.push_back(video_json(job));
    send_json(response, 200,
              {{"object", "list"},
               {"data", data},
               {"first_id", items.empty() ? json(nullptr) : json(items.front().id)},
               {"last_id", items.empty() ? json(nullptr) : json(items.back().id)},
               {"has_more", has_more}});
}

void handle_video_retrieve(api_context &context, server_request &request, server_response &response) {
    if (!have_jobs(context, response)) return;
    const auto record = context.jobs->get(video_id_of(path_of(request)));
    if (!record || record->task != "video") return send_openai_error(response, 404, "no video with that id");
    send_json(response, 200, video_json(*record));
}

// Deletes the video: a finished one at once; an unfinished one is cancelled first and deleted once
// the cancel settled (within kCancelSettle, like the upstream's bounded abort), so "deleted":true
// always means the record is gone. A running job that does not stop in time is answered 202 with
// "deleted":false and its status; it ends as failed (code cancelled), and a DELETE then removes it.
void handle_video_delete(api_context &context, server_request &request, server_response &response) {
    if (!have_jobs(context, response)) return;
    const std::string id = video_id_of(path_of(request));
    const auto record = context.jobs->get(id);
    if (!record || record->task != "video") return send_openai_error(response, 404, "no video with that id");
    const jobs::delete_result deleted = jobs::cancel_then_remove(*context.jobs, id, kCancelSettle);
    if (deleted.removed == jobs::remove_outcome::NotFinished) {
        json answer = {{"id", id}, {"deleted", false}, {"object", "video.deleted"}};
        answer["status"] = deleted.job ? video_json(*deleted.job)["status"] : json("in_progress");
        answer["message"] = "cancel requested; the video is not stopped yet (DELETE again once it failed as cancelled)";
        return send_json(response, 202, answer);
    }
    // Removed, or NotFound: another request removed it meanwhile, which is deleted all the same.
    send_json(response, 200, {{"id", id}, {"deleted", true}, {"object", "video.deleted"}});
}

// Only the "video" variant exists here (the upstream's thumbnail and spritesheet are not made);
// it is the job's output file with its own MIME type.
void handle_video_content(api_context &context, server_request &request, server_response &response) {
    if (!have_jobs(context, response)) return;
    query_parameters parameters;
    if (auto error = read_query(request, parameters)) return send_openai_error(response, *error);
    for (const auto &[key, value] : parameters) {
        if (key != "variant")
            return send_openai_error(response, 400, key + ": unknown query parameter (variant)", key);
        if (value != "video")
            return send_openai_error(response, 400, "variant: only video is available (no thumbnail or spritesheet is made)",
                                     "variant");
    }
    const std::string id = video_id_of(path_of(request));
    const auto record = context.jobs->get(id);
    if (!record || record->task != "video") return send_openai_error(response, 404, "no video with that id");
    if (record->state != jobs::job_phase::Succeeded)
        return send_openai_error(response, 409, std::string("the video is not completed (status: ") +
                                                    jobs::job_state_name(record->state) + ")");
    const auto output = context.jobs->output(id);
    if (!output || output->path.empty() || output->evicted)
        return send_openai_error(response, 410, "the video's file is gone (removed by the disk quota)");
    std::ifstream in(output->path, std::ios::binary);
    if (!in) return send_openai_error(response, 410, "the video's file is gone");
    response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
    response.setContentType(output->mime_type.empty() ? "application/octet-stream" : output->mime_type);
    response.set("Cache-Control", "no-cache");
    response.setContentLength64(output->bytes);
    std::ostream &out = response.send();
    Poco::StreamCopier::copyStream64(in, out);
}

} // namespace omnihost::openai
