#include "openai/generation_run.h"

#include <atomic>
#include <fstream>
#include <sstream>

#include <Poco/Net/HTTPServerRequest.h>

#include "api/client_watch.h"
#include "services/http_status.h"
#include "common/json_limits.h"
#include "jobs/job_service.h"
#include "metrics/host_metrics.h"

namespace omnihost::openai {
namespace {

using mono_clock = std::chrono::steady_clock;

std::string next_id(const char *prefix) {
    static std::atomic<uint64_t> counter{0};
    return std::string(prefix) + std::to_string(mono_clock::now().time_since_epoch().count() % 1000000000) + "-" +
           std::to_string(++counter);
}

generation_outcome run_on_slot(api_context &context, Poco::Net::HTTPServerRequest &request, generate_call call) {
    generation_outcome out;
    if (call.job_id.empty()) call.job_id = next_id("v1-");
    out.id = call.job_id;
    const std::string task = call.request.value("task", "");
    std::future<generate_reply> pending = context.slot->generate_async(std::move(call));
    const generate_reply reply = wait_cancelling_on_disconnect(request, *context.slot, pending, out.id);
    out.seconds = reply.seconds;
    if (reply.refusal.refused()) {
        out.error = api_error{http_status_for(reply.refusal.outcome), reply.refusal.error, ""};
        return out;
    }
    if (context.metrics)
        context.metrics->observe_generation(task, reply.cancelled ? "cancelled" : reply.status.ok() ? "succeeded" : "failed",
                                            reply.seconds);
    if (reply.cancelled) {
        out.error = api_error{409, "cancelled", ""};
        return out;
    }
    if (!reply.status.ok()) {
        out.error = api_error{http_status_for(reply.status.code), reply.status.message, ""};
        return out;
    }
    out.bytes = reply.result.data;
    out.mime_type = reply.result.mime_type;
    auto metadata = parse_json_bounded_or_discarded(reply.result.metadata_json);
    if (metadata.is_object()) out.metadata = std::move(metadata);
    return out;
}

generation_outcome run_as_job(api_context &context, Poco::Net::HTTPServerRequest &request, generate_call call,
                             const std::string &model) {
    generation_outcome out;
    jobs::job_submission submission;
    submission.id = call.job_id;
    submission.task = call.request.value("task", "");
    submission.model = model;
    submission.request = std::move(call.request);
    const jobs::submit_result submitted = context.jobs->submit(std::move(submission));
    if (submitted.http_status >= 400) {
        out.error = api_error{submitted.http_status, submitted.error, submitted.field};
        return out;
    }
    out.id = submitted.id;
    const int fd = request_socket_fd(request);
    std::optional<jobs::stored_job> record;
    bool cancelled = false;
    for (;;) {
        record = context.jobs->wait_finished(out.id, std::chrono::milliseconds(100));
        if (!record || jobs::is_terminal(record->state)) break;
        if (!cancelled && fd >= 0 && client_has_gone(fd)) {
            context.jobs->cancel(out.id); // nobody waits for it any more
            cancelled = true;
        }
    }
    if (!record) {
        out.error = api_error{409, "the job was removed before it finished", ""};
        return out;
    }
    if (record->started_ms > 0 && record->finished_ms >= record->started_ms)
        out.seconds = static_cast<double>(record->finished_ms - record->started_ms) / 1000.0;
    if (record->state == jobs::job_phase::Cancelled) {
        out.error = api_error{409, "cancelled", ""};
        return out;
    }
    if (record->state == jobs::job_phase::Failed) {
        out.error = api_error{500, record->error.empty() ? "generation failed" : record->error, ""};
        return out;
    }
    const auto output = context.jobs->output(out.id);
    if (!output || output->path.empty()) {
        out.error = api_error{500, "the job finished without an output file", ""};
        return out;
    }
    std::ifstream in(output->path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in.good() && !in.eof()) {
        out.error = api_error{500, "cannot read the job's output file", ""};
        return out;
    }
    out.bytes = bytes.str();
    out.mime_type = output->mime_type;
    if (record->metadata.is_object()) out.metadata = record->metadata;
    return out;
}

} // namespace

generation_outcome run_generation(api_context &context, Poco::Net::HTTPServerRequest &request, generate_call call,
                                 const std::string &model) {
    // Chat streams through the slot's emit callback, which a queued job does not carry.
    if (context.jobs && call.task != task_kind::Chat) return run_as_job(context, request, std::move(call), model);
    return run_on_slot(context, request, std::move(call));
}

} // namespace omnihost::openai
