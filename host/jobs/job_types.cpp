#include "jobs/job_types.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace omnihost::jobs {

const char *job_state_name(job_phase state) {
    switch (state) {
    case job_phase::Queued: return "queued";
    case job_phase::Running: return "running";
    case job_phase::Succeeded: return "succeeded";
    case job_phase::Failed: return "failed";
    case job_phase::Cancelled: return "cancelled";
    }
    return "unknown";
}

std::optional<job_phase> parse_job_state(const std::string &name) {
    for (job_phase s : {job_phase::Queued, job_phase::Running, job_phase::Succeeded, job_phase::Failed, job_phase::Cancelled})
        if (name == job_state_name(s)) return s;
    return std::nullopt;
}

int64_t now_epoch_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string iso_time_ms(int64_t epoch_ms) {
    if (epoch_ms <= 0) return "";
    const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[96]; // room for any int in every field (-Wformat-truncation)
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(epoch_ms % 1000));
    return text;
}

bool valid_job_id(const std::string &id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

namespace {
nlohmann::json time_or_null(int64_t ms) { return ms > 0 ? nlohmann::json(iso_time_ms(ms)) : nlohmann::json(nullptr); }
} // namespace

nlohmann::json job_to_json(const stored_job &job, bool with_request) {
    nlohmann::json progress = {{"step", job.progress.step},
                               {"total", job.progress.total},
                               {"phase", job.progress.phase},
                               {"message", job.progress.message},
                               {"eta_s", job.progress.eta_s >= 0 ? nlohmann::json(job.progress.eta_s) : nlohmann::json(nullptr)}};
    nlohmann::json output = nullptr;
    if (job.state == job_phase::Succeeded && (!job.output.path.empty() || job.output.evicted)) {
        output = {{"mime_type", job.output.mime_type},
                  {"bytes", job.output.bytes},
                  {"evicted", job.output.evicted},
                  {"url", job.output.evicted ? nlohmann::json(nullptr) : nlohmann::json("/api/jobs/" + job.id + "/output")}};
    }
    double seconds = 0;
    if (job.started_ms > 0 && job.finished_ms >= job.started_ms) seconds = static_cast<double>(job.finished_ms - job.started_ms) / 1000.0;
    nlohmann::json out = {{"id", job.id},
                          {"task", job.task},
                          {"model", job.model},
                          {"state", job_state_name(job.state)},
                          {"progress", progress},
                          {"created_at", time_or_null(job.created_ms)},
                          {"started_at", time_or_null(job.started_ms)},
                          {"finished_at", time_or_null(job.finished_ms)},
                          {"generation_time", job.finished_ms > 0 && job.started_ms > 0 ? nlohmann::json(seconds) : nlohmann::json(nullptr)},
                          {"error", job.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(job.error)},
                          {"error_status", job.error_status > 0 ? nlohmann::json(job.error_status) : nlohmann::json(nullptr)},
                          {"output", output},
                          {"metadata", job.metadata},
                          {"attempts", job.attempts},
                          {"worker", job.worker},
                          {"cancel_requested", job.cancel_requested},
                          {"position", job.position > 0 ? nlohmann::json(job.position) : nlohmann::json(nullptr)}};
    // The prompt (or text) travels in every view: the gallery captions with it.
    for (const char *key : {"prompt", "text", "seed"})
        if (job.request.contains(key)) out[key] = job.request[key];
    if (with_request) out["request"] = job.request;
    return out;
}

} // namespace omnihost::jobs
