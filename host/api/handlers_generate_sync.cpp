// The playground's synchronous generate endpoints as thin wrappers over jobs: the body is queued
// as a job like POST /api/jobs, this HTTP thread waits for the job's end, and answers with the
// output inlined as base64 (the playground's shape). A client that hangs up cancels its job.
#include <fstream>
#include <sstream>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <spdlog/spdlog.h>

#include "api/client_watch.h"
#include "api/handlers_generate_sync.h"
#include "api/handlers_jobs.h"
#include "api/http_io.h"
#include "jobs/job_service.h"

namespace omnihost {
namespace {

bool read_file(const std::string &path, std::string &out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream buffer;
    buffer << in.rdbuf();
    out = buffer.str();
    return static_cast<bool>(in) || in.eof();
}

nlohmann::json number_or(const nlohmann::json &metadata, const char *key, const nlohmann::json &fallback) {
    return metadata.contains(key) && metadata[key].is_number() ? metadata[key] : fallback;
}

} // namespace

void answer_generation_via_job(api_context &context, Poco::Net::HTTPServerRequest &request,
                               Poco::Net::HTTPServerResponse &response, task_kind task) {
    nlohmann::json body;
    if (auto error = read_json_object(request, context.options.max_body_bytes, body, false)) {
        send_error(response, *error);
        return;
    }
    const job_submit_outcome submitted = submit_generation_job(context, std::move(body), task);
    if (!submitted.queued) {
        send_submit_failure(response, submitted);
        return;
    }
    const std::string &id = submitted.id;
    const int fd = request_socket_fd(request);
    bool cancelled_for_client = false;
    std::optional<jobs::stored_job> job;
    for (;;) {
        job = context.jobs->wait_finished(id, std::chrono::milliseconds(100));
        if (!job || jobs::is_terminal(job->state)) break;
        if (context.jobs->closing()) {
            send_error(response, {503, "the host is shutting down; job '" + id + "' stays queued and runs later", ""});
            return;
        }
        // The playground waits on this host's model: if it was stopped (or replaced) while the
        // job still waited its turn, the job could only run after a new start; answer now instead.
        if (job->state == jobs::job_phase::Queued) {
            const slot_snapshot snap = context.slot->snapshot();
            const bool gone = snap.state == slot_state::Idle || snap.state == slot_state::Failed ||
                              (snap.state == slot_state::Ready && snap.plan && snap.plan->model != job->model);
            if (gone && context.jobs->cancel_if_pending(id)) {
                send_error(response, {503, std::string("model is not ready (state: ") + slot_state_name(snap.state) +
                                               "); job '" + id + "' was cancelled while it waited in the queue", ""});
                return;
            }
        }
        if (!cancelled_for_client && client_has_gone(fd)) {
            cancelled_for_client = true;
            spdlog::info("job {}: the client disconnected; cancelling it", id);
            context.jobs->cancel(id);
        }
    }
    if (!job) {
        send_json(response, 409, {{"success", false}, {"error", "the job was removed before it finished"}, {"job_id", id}});
        return;
    }
    const double seconds = job->started_ms > 0 && job->finished_ms >= job->started_ms
                               ? static_cast<double>(job->finished_ms - job->started_ms) / 1000.0
                               : 0.0;
    if (job->state == jobs::job_phase::Cancelled) {
        send_json(response, 409, {{"success", false}, {"error", "cancelled"}, {"cancelled", true}, {"job_id", id},
                                  {"generation_time", seconds}});
        return;
    }
    if (job->state == jobs::job_phase::Failed) {
        send_json(response, job->error_status >= 400 ? job->error_status : 500,
                  {{"success", false}, {"error", job->error}, {"job_id", id}, {"generation_time", seconds}});
        return;
    }
    std::string data;
    if (job->output.path.empty() || !read_file(job->output.path, data)) {
        send_error(response, {410, "job '" + id + "': its output is gone (disk quota or removed by hand)", ""});
        return;
    }
    const nlohmann::json &metadata = job->metadata;
    const std::string encoded = base64_encode(data);
    nlohmann::json answer = {{"success", true},      {"error", nullptr},
                             {"generation_time", seconds}, {"job_id", id},
                             {"mime_type", job->output.mime_type}, {"metadata", metadata}};
    const nlohmann::json &asked = job->request;
    switch (task) {
    case task_kind::Image: answer["image_base64"] = encoded; break;
    case task_kind::Video:
        answer["video_base64"] = encoded;
        answer["duration"] = number_or(metadata, "duration", asked.value("duration", nlohmann::json(nullptr)));
        break;
    case task_kind::Audio:
    case task_kind::Tts:
        answer["audio_base64"] = encoded;
        answer["audio_format"] = job->output.mime_type.empty() ? "audio/wav" : job->output.mime_type;
        answer["duration"] = number_or(metadata, "duration",
                                       task == task_kind::Audio ? asked.value("audio_duration", nlohmann::json(nullptr))
                                                           : nlohmann::json(nullptr));
        break;
    case task_kind::Chat: break;
    }
    send_json(response, 200, answer);
}

} // namespace omnihost
