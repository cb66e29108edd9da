// job_service.h — the job API every front end uses (the /api/jobs handlers, the playground's
// synchronous endpoints, the OpenAI-style routes): submit, look up, list, cancel, read the
// output, and follow events. The implementation (job_manager.h) keeps the records in the job
// store and runs queued jobs one at a time through the runtime slot.
//
// Threads: every member may be called from any thread (HTTP threads). None blocks on a running
// generation except wait_finished(), which blocks by design.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "jobs/job_types.h"

namespace omnihost::jobs {

// A validated generation to queue. Validate the body first (api/generate_request.h does it the
// way the playground endpoints do: wire fields, the loaded plugin's schema, recipe defaults,
// operator limits), then submit what it returns.
struct job_submission {
    std::string id;          // "" = the service makes one; else must be valid_job_id and unused
    std::string task;        // "image", "video", "audio", "tts"
    std::string model;       // the loaded model the request was validated against
    nlohmann::json request;  // validated, defaults filled, includes "task"
};

// Keeps an event subscription alive; destroying it unsubscribes (after which the callback is
// never called again, also not concurrently).
class job_subscription {
public:
    virtual ~job_subscription() = default;
};

// The slot held for a call that is no stored job (a streamed chat: its events go to one open
// connection, which a record cannot carry). While it lives this host's worker starts no job;
// destroying it hands the slot back to the queue.
class slot_turn {
public:
    virtual ~slot_turn() = default;
};

struct turn_result {
    std::unique_ptr<slot_turn> turn; // set when it is the call's turn: run it now, then drop this
    int http_status = 200;          // else 429 (queue full, retry_after_s), 503 (host stopping), 499 (gave up)
    std::string error;
    int retry_after_s = 0;
};

class job_service {
public:
    virtual ~job_service() = default;

    // Queues a job: 202 + id, or a refusal (429 with retry_after_s when the queue already holds
    // --queue-depth jobs; 409 when the id is used). Publishes a "queued" event.
    virtual submit_result submit(job_submission submission) = 0;

    virtual std::optional<stored_job> get(const std::string &id) = 0;

    // Newest first, paged by cursor (see job_page).
    virtual job_page list(const job_query &query) = 0;

    // Cancels a queued or running job. One step in the store, so a job that ends meanwhile is
    // either cancelled or answered AlreadyFinished with its result kept, never removed.
    virtual job_cancel_outcome cancel(const std::string &id) = 0;
    // cancel() for callers that only need to know whether something was pending.
    virtual bool cancel_if_pending(const std::string &id) = 0;
    // Removes a finished job from history with its output file; an unfinished one is left alone
    // (NotFinished). See cancel_then_remove() for "stop it, then delete it".
    virtual remove_outcome remove(const std::string &id) = 0;

    // The finished job's output file, or nullopt (not found, not finished, no output, evicted).
    virtual std::optional<job_output> output(const std::string &id) = 0;

    // Blocks until the job is finished (or removed: nullopt) or `timeout` passed (the record as
    // it is then). For synchronous wrappers.
    virtual std::optional<stored_job> wait_finished(const std::string &id, std::chrono::milliseconds timeout) = 0;

    // Calls `on_event` for every event of every job from now on (jobs run by this host; state
    // changes made here). Called on the thread that made the change: must be quick and not block,
    // and must not call back into the service.
    virtual std::unique_ptr<job_subscription> subscribe(std::function<void(const job_event &)> on_event) = 0;

    virtual job_stats stats() = 0;

    // Waits for a streamed call's turn in the same FIFO as the jobs: after the jobs queued before
    // it that this host's model serves and the streamed calls that came before it, ahead of
    // everything later. Without a ready model it is its turn at once (the slot then refuses the
    // call as it would have). It counts against --queue-depth while it waits (429 when full).
    // `gave_up` is asked about every 100 ms (its client hung up: 499, nothing runs). `label`
    // names the call in the log.
    virtual turn_result wait_turn(const std::string &label, const std::function<bool()> &gave_up) = 0;

    // True once the host is shutting down: no job starts any more, and wait_finished() returns at
    // once (a synchronous caller answers 503 instead of waiting for a job that will not run here).
    virtual bool closing() = 0;
};

// "Delete this job, whatever it is doing": a finished job is removed at once; a queued one is
// cancelled and removed; a running one is cancelled and removed once it stopped, waiting at most
// `settle`. `removed` is Removed (or NotFound: it never was, or another request removed it), or
// NotFinished when it did not stop in time (`job` is then its record; it ends as cancelled and a
// later call removes it). The /v1/videos DELETE and DELETE /api/jobs/{id}?purge=true.
struct delete_result {
    remove_outcome removed = remove_outcome::NotFound;
    std::optional<stored_job> job;
};
delete_result cancel_then_remove(job_service &jobs, const std::string &id, std::chrono::milliseconds settle);

} // namespace omnihost::jobs
