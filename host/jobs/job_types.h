// job_types.h — what a job is, as every part of the host sees it (the job service, the HTTP
// handlers, the OpenAI-style routes, /metrics). Plain data: no Poco, no database, no slot.
//
// A job is one generation: submitted (queued), claimed by a worker (running), and finished
// (succeeded, failed or cancelled). Its record lives in the job store (SQLite or PostgreSQL), so
// it survives a restart and is shared by every host using the same database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace omnihost::jobs {

enum class job_phase { Queued, Running, Succeeded, Failed, Cancelled };

// "queued", "running", "succeeded", "failed", "cancelled".
const char *job_state_name(job_phase state);
// The inverse; nullopt for anything else.
std::optional<job_phase> parse_job_state(const std::string &name);
inline bool is_terminal(job_phase state) {
    return state == job_phase::Succeeded || state == job_phase::Failed || state == job_phase::Cancelled;
}

// The last progress report of a running job (the plugin's step/total/phase/message).
struct job_progress_info {
    int32_t step = 0;
    int32_t total = 0;  // 0 = unknown
    std::string phase;
    std::string message;
    double eta_s = -1;  // estimated seconds left in this phase; < 0 = unknown
};

// Where a finished job's media is: a file in the output folder, written completely (temporary
// name, fsync, rename) before it is recorded here.
struct job_output {
    std::string path;      // absolute; "" when the job has no output (or it was evicted)
    std::string mime_type;
    int64_t bytes = 0;
    bool evicted = false;  // removed by the disk quota (oldest first); the record stays
};

struct stored_job {
    std::string id;        // [A-Za-z0-9_-]{1,64}; the client's job_id when it gave one
    std::string task;      // "image", "video", "audio", "tts"
    std::string model;     // the model the job was validated for; only a host serving it runs it
    nlohmann::json request = nlohmann::json::object(); // validated, defaults filled, with "task"
    job_phase state = job_phase::Queued;
    job_progress_info progress;
    // Milliseconds since the Unix epoch (UTC); 0 = not yet.
    int64_t created_ms = 0;
    int64_t started_ms = 0;
    int64_t finished_ms = 0;
    std::string error;     // why it failed ("" otherwise); "cancelled" for a cancelled job
    int error_status = 0;  // the HTTP status a synchronous caller answers a failure with (0: none)
    job_output output;
    nlohmann::json metadata = nlohmann::json::object(); // the plugin's result metadata (seed, duration, ...)
    std::string worker;    // the host (worker id) that ran or runs it; "" while queued
    int32_t attempts = 0;  // claims so far (> 1 after a worker died and another took over)
    bool cancel_requested = false;
    int64_t position = 0;  // 1-based place in the queue while queued; 0 otherwise (filled by get/list)
};

// One page of history, newest first. `next_before` is the cursor for the next (older) page:
// pass it as job_query::before; 0 when this is the last page.
struct job_page {
    std::vector<stored_job> items;
    int64_t total = 0;        // jobs matching the filter, all pages together (0 unless with_total)
    int64_t next_before = 0;  // newest-first pages only
    bool has_more = false;    // more jobs follow this page in its order
    bool after_unknown = false; // job_query::after_id names no job matching the filter (no items then)
};

struct job_query {
    int limit = 50;                 // 1..500
    int64_t before = 0;             // cursor from job_page::next_before; 0 = newest first
    std::optional<job_phase> state;  // only this state
    std::string task;               // only this task ("" = any)
    bool with_request = false;      // include each job's request (bigger answers)
    // Keyset paging by job id (the /v1 list's cursor): the jobs after `after_id` in the page's
    // order, found through the id's unique index and the (task, seq) index, never by a walk.
    std::string after_id;           // "" = from the start
    bool ascending = false;         // oldest first
    bool with_total = true;         // count every matching job (a scan of the filter's index)
};

// The answer to a submit.
struct submit_result {
    int http_status = 202;     // 202 queued; 409 id already used; 429 queue full; 503 store down
    std::string id;
    std::string error;         // when refused
    std::string field;         // the request field a refusal names ("job_id"), "" otherwise
    int retry_after_s = 0;     // with 429: the Retry-After header's value
    int64_t position = 0;      // 1-based place in the queue when queued
};

// What a cancel did (DELETE /api/jobs/{id}; a synchronous caller whose client hung up). A cancel
// never removes anything: a job that finished before the cancel reached it keeps its result.
enum class job_cancel_outcome {
    NotFound,
    Cancelled,        // was queued: cancelled now
    CancelRequested,  // was running: the worker running it is told; it ends as cancelled soon
    AlreadyFinished,  // had already ended (succeeded, failed or cancelled): left as it is
};

// What removing a job from history did (DELETE /api/jobs/{id}?purge=true, DELETE /v1/videos/{id}).
enum class remove_outcome {
    NotFound,
    Removed,      // was finished: its record and its output file are gone
    NotFinished,  // still queued or running: nothing removed (cancel it first)
};

// Events of a job, in the order they happen for that job. "progress" events are throttled.
struct job_event {
    std::string kind;  // "queued", "running", "progress", "succeeded", "failed", "cancelled", "removed"
    stored_job job;     // the record after the change (request omitted)
};

// Counts for /metrics and status views.
struct job_stats {
    int64_t queued = 0;
    int64_t running = 0;
    int64_t succeeded = 0;
    int64_t failed = 0;
    int64_t cancelled = 0;
    int64_t queue_depth_limit = 0;  // --queue-depth
    int64_t output_bytes = 0;       // recorded outputs on disk
};

// ISO 8601 UTC with milliseconds ("2026-12-05T20:41:02.123Z"); "" for 0.
std::string iso_time_ms(int64_t epoch_ms);
int64_t now_epoch_ms();

// The JSON a job is shown as on /api/jobs (and in "job" WebSocket frames, without the request):
// {"id","task","model","state","progress":{step,total,phase,message,eta_s|null},"created_at",
//  "started_at","finished_at","error","output":{"mime_type","bytes","url"}|null,"metadata",
//  "attempts","worker","position"} (+ "request" when asked).
nlohmann::json job_to_json(const stored_job &job, bool with_request);

// True when `id` may be a job id: [A-Za-z0-9_-]{1,64}.
bool valid_job_id(const std::string &id);

} // namespace omnihost::jobs
