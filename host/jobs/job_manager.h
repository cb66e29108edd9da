// job_manager.h — the job_service of a host: records in the job store, a bounded FIFO queue in
// front of the runtime slot, and one worker thread that claims the next job the loaded model
// serves and runs it through the slot (the same generate path the playground used), renewing its
// lease, passing cancels on, writing the output file and recording the end.
//
// Events go to subscribers and, as {"type":"job",...} frames, to the log bus WebSocket.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job_service.h"
#include "jobs/job_store.h"
#include "jobs/pg_listener.h"
#include "jobs/progress_tracker.h"

namespace omnihost {
class runtime_slot;
namespace log_bus {
class bus;
}
} // namespace omnihost

namespace omnihost::jobs {

struct job_queue_options {
    int64_t queue_depth = 32;          // queued jobs at most (all hosts of a shared store); more get 429
    std::string output_dir;            // where outputs are written (a shared volume for several hosts)
    std::chrono::milliseconds lease{30000}; // a running job's claim; renewed every third of it
    int64_t output_quota_bytes = 0;    // 0 = no quota; else oldest outputs are evicted above it
    int max_attempts = 3;              // a job whose worker died this often fails instead of rerunning
    std::string worker_id;             // this host in job records ("host:pid:random")
    std::chrono::milliseconds poll{200}; // how often the idle worker looks at the slot and the store
};

class job_queue final : public job_service {
public:
    job_queue(job_database &store, runtime_slot &slot, log_bus::bus *bus, job_queue_options options);
    ~job_queue() override;

    // Start-up: leftover temporaries removed, jobs of a previous run of this (SQLite) host put
    // back in the queue, then the worker starts.
    void start();
    // The running job (if any) is cancelled and put back in the queue; the worker ends.
    void stop();

    // From the slot's progress sink (any thread): progress of the running job.
    void on_progress(const std::string &job_id, int32_t step, int32_t total, const std::string &phase,
                     const std::string &message);

    submit_result submit(job_submission submission) override;
    std::optional<stored_job> get(const std::string &id) override;
    job_page list(const job_query &query) override;
    job_cancel_outcome cancel(const std::string &id) override;
    bool cancel_if_pending(const std::string &id) override;
    remove_outcome remove(const std::string &id) override;
    std::optional<job_output> output(const std::string &id) override;
    std::optional<stored_job> wait_finished(const std::string &id, std::chrono::milliseconds timeout) override;
    std::unique_ptr<job_subscription> subscribe(std::function<void(const job_event &)> on_event) override;
    job_stats stats() override;
    bool closing() override;
    turn_result wait_turn(const std::string &label, const std::function<bool()> &gave_up) override;

    const job_queue_options &options() const { return options_; }

private:
    class subscription;
    class stream_turn;
    // A streamed call waiting for its turn (wait_turn).
    struct turn_ticket {
        int64_t arrived_ms = 0;
        bool granted = false;
    };
    bool grant_turn(const std::shared_ptr<turn_ticket> &front);
    int retry_after_s();
    void worker_loop();
    void run_job(stored_job job);
    void enforce_quota(const std::string &keep_id);
    void reap(bool all_running);
    void publish(const std::string &kind, const stored_job &job);
    void publish_to_bus(const std::string &kind, const stored_job &job);
    void on_remote_event(const std::string &payload);
    void notify_finished();

    job_database &store_;
    runtime_slot &slot_;
    log_bus::bus *bus_;
    job_queue_options options_;

    std::mutex mutex_;             // wake-ups, the running job's in-memory state
    std::condition_variable wake_; // the worker: a submit, a cancel, stop
    std::condition_variable finished_cv_;
    uint64_t finished_count_ = 0;
    bool stopping_ = false;
    std::string running_id_;       // the job this host runs now ("" when none)
    progress_tracker tracker_;
    std::chrono::steady_clock::time_point last_progress_event_{};
    std::chrono::steady_clock::time_point last_reap_{};
    std::deque<std::shared_ptr<turn_ticket>> turns_; // waiting streamed calls, oldest first
    bool turn_held_ = false;                         // a streamed call holds the slot now
    std::condition_variable turn_cv_;                // waiting streamed calls: granted, stop

    std::mutex subscribers_mutex_;
    std::map<uint64_t, std::function<void(const job_event &)>> subscribers_;
    uint64_t next_subscriber_ = 0;

    std::thread worker_;
    std::unique_ptr<pg_listener> listener_; // PostgreSQL: other hosts' job changes, pushed
};

// "hostname:pid:random" — unique per process, readable in job records.
std::string make_worker_id();

} // namespace omnihost::jobs
