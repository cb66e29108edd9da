// The upstream's asynchronous videos API on the host's job queue: POST /v1/videos queues a job
// and answers its VideoResponse; GET /v1/videos[/{id}] read the job records; DELETE cancels (or
// removes a finished one); /content streams the finished MP4.
#include <fstream>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "api/generate_request.h"
#include "jobs/job_service.h"
#include "openai/openai_errors.h"
#include "openai/openai_handlers.h"
#include "openai/openai_mapping.h"

namespace omnihost::openai {
namespace {

using nlohmann::json;

std::string path_of(const Request &request) {
    const std::string &uri = request.getURI();
    return uri.substr(0, uri.find_first_of("?#"));
}

bool have_jobs(ApiContext &context, Response &response) {
    if (context.jobs) return true;
    send_openai_error(response, 503, "this host runs without a job queue; use POST /v1/videos/sync");
    return false;
}

json seconds_or_null(int64_t ms) { return ms > 0 ? json(ms / 1000) : json(nullptr); }

// A job record as the upstream's VideoResponse.
json video_json(const jobs::JobRecord &job) {
    std::string status = "queued";
    json error = nullptr;
    switch (job.state) {
    case jobs::JobState::Queued: status = "queued"; break;
    case jobs::JobState::Running: status = "in_progress"; break;
    case jobs::JobState::Succeeded: status = "completed"; break;
    case jobs::JobState::Failed:
        status = "failed";
        error = {{"code", "generation_failed"}, {"message", job.error}};
        break;
    case jobs::JobState::Cancelled:
        status = "failed";
        error = {{"code", "cancelled"}, {"message", job.error.empty() ? "cancelled" : job.error}};
        break;
    }
    int progress = 0;
    if (job.state == jobs::JobState::Succeeded) progress = 100;
    else if (job.state == jobs::JobState::Running && job.progress.total > 0)
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
            {"media_type", job.output.mime_type.empty() ? "video/mp4" : job.output.mime_type},
            {"expires_at", nullptr},
            {"file_name", nullptr},
            {"inference_time_s", inference},
            {"stage_durations", json::object()},
            {"peak_memory_mb", 0.0}};
}

} // namespace

void handle_videos_create(ApiContext &context, Request &request, Response &response) {
    auto in = read_request_object(context, request, response, true);
    if (!in || !have_jobs(context, response)) return;
    const SlotSnapshot snap = context.slot->snapshot();
    const StartPlan *plan = snap.plan ? &*snap.plan : nullptr;
    if (auto error = check_model_field(*in, plan)) return send_openai_error(response, *error);
    json body;
    if (auto error = map_video_request(*in, plan, body)) return send_openai_error(response, *error);
    ApiError failure;
    auto call = validate_generate_request(context, std::move(body), Task::Video, failure);
    if (!call) return send_openai_error(response, in_client_terms(*in, failure));
    jobs::JobSubmission submission;
    submission.id = call->job_id;
    submission.task = "video";
    submission.model = plan ? plan->model : "";
    submission.request = std::move(call->request);
    const jobs::SubmitResult submitted = context.jobs->submit(std::move(submission));
    if (submitted.http_status >= 400) {
        if (submitted.http_status == 429 && submitted.retry_after_s > 0)
            response.set("Retry-After", std::to_string(submitted.retry_after_s));
        return send_openai_error(response, submitted.http_status, submitted.error, submitted.field);
    }
    const auto record = context.jobs->get(submitted.id);
    if (!record) return send_openai_error(response, 500, "the queued job disappeared");
    send_json(response, 200, video_json(*record));
}

void handle_videos_list(ApiContext &context, Request &request, Response &response) {
    if (!have_jobs(context, response)) return;
    jobs::JobQuery query;
    query.task = "video";
    query.with_request = true;
    for (const auto &[key, value] : Poco::URI(request.getURI()).getQueryParameters()) {
        if (key != "limit") continue;
        try {
            const int limit = std::stoi(value);
            if (limit < 1 || limit > 500) throw std::out_of_range("limit");
            query.limit = limit;
        } catch (const std::exception &) {
            return send_openai_error(response, 400, "limit: must be a whole number from 1 to 500", "limit");
        }
    }
    const jobs::JobPage page = context.jobs->list(query);
    json data = json::array();
    for (const auto &job : page.items) data.push_back(video_json(job));
    send_json(response, 200,
              {{"object", "list"},
               {"data", data},
               {"first_id", page.items.empty() ? json(nullptr) : json(page.items.front().id)},
               {"last_id", page.items.empty() ? json(nullptr) : json(page.items.back().id)},
               {"has_more", page.next_before != 0}});
}

void handle_video_retrieve(ApiContext &context, Request &request, Response &response) {
    if (!have_jobs(context, response)) return;
    const auto record = context.jobs->get(video_id_of(path_of(request)));
    if (!record || record->task != "video") return send_openai_error(response, 404, "no video with that id");
    send_json(response, 200, video_json(*record));
}

void handle_video_delete(ApiContext &context, Request &request, Response &response) {
    if (!have_jobs(context, response)) return;
    const std::string id = video_id_of(path_of(request));
    const auto record = context.jobs->get(id);
    if (!record || record->task != "video") return send_openai_error(response, 404, "no video with that id");
    if (context.jobs->cancel(id) == jobs::CancelOutcome::NotFound)
        return send_openai_error(response, 404, "no video with that id");
    send_json(response, 200, {{"id", id}, {"deleted", true}, {"object", "video.deleted"}});
}

void handle_video_content(ApiContext &context, Request &request, Response &response) {
    if (!have_jobs(context, response)) return;
    const std::string id = video_id_of(path_of(request));
    const auto record = context.jobs->get(id);
    if (!record || record->task != "video") return send_openai_error(response, 404, "no video with that id");
    if (record->state != jobs::JobState::Succeeded)
        return send_openai_error(response, 409, std::string("the video is not completed (status: ") +
                                                    jobs::job_state_name(record->state) + ")");
    const auto output = context.jobs->output(id);
    if (!output || output->path.empty() || output->evicted)
        return send_openai_error(response, 410, "the video's file is gone (removed by the disk quota)");
    std::ifstream in(output->path, std::ios::binary);
    if (!in) return send_openai_error(response, 410, "the video's file is gone");
    response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
    response.setContentType(output->mime_type.empty() ? "video/mp4" : output->mime_type);
    response.set("Cache-Control", "no-cache");
    response.setContentLength64(output->bytes);
    std::ostream &out = response.send();
    Poco::StreamCopier::copyStream64(in, out);
}

} // namespace omnihost::openai
