// job_store.h — job records in a real database through Poco::Data: SQLite (one file in the
// data directory, WAL mode; one host) or PostgreSQL (several hosts share one queue and one
// history). The SQL is the same for both apart from a few dialect words (sql_dialect.h).
//
// Claiming is safe between hosts: PostgreSQL claims with SELECT ... FOR UPDATE SKIP LOCKED, so two
// workers never take the same job, and a claim is a lease in the database's clock that the
// running worker renews; a job whose lease ran out (its host died) goes back to the queue.
//
// Threads: every member may be called from any thread; calls are serialised on one connection.
// A database error throws store_error.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "jobs/job_types.h"

namespace Poco::Data {
class Session;
}

namespace omnihost::jobs {

struct store_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What a worker may take: the loaded model and the tasks it serves.
struct claim_filter {
    std::string model;
    std::vector<std::string> tasks;
    int64_t created_at_most = 0; // > 0: only jobs submitted by then (epoch ms; a waiting stream's arrival)
};

// The result of a lease renewal.
struct lease_state {
    bool held = false;             // false: the job is no longer ours (lease lost, removed)
    bool cancel_requested = false;
};

// What a lease sweep did.
struct reap_result {
    std::vector<std::string> requeued;   // back to queued: their worker stopped renewing
    std::vector<std::string> cancelled;  // were asked to cancel, their worker is gone
    std::vector<std::string> failed;     // too many workers died running them
};

class job_database {
public:
    // `database`: "" or "sqlite:PATH" (SQLite file) or "postgresql://..." (a libpq URI).
    // `default_sqlite_path` is used for "". Creates the schema when missing.
    job_database(const std::string &database, const std::string &default_sqlite_path);
    ~job_database();
    job_database(const job_database &) = delete;
    job_database &operator=(const job_database &) = delete;

    bool shared() const { return postgres_; }  // true for PostgreSQL (several hosts)
    // PostgreSQL: libpq keywords of the database (for a LISTEN connection of its own).
    const std::string &libpq_connection() const { return connection_; }
    // PostgreSQL: every change of a job is also sent as NOTIFY omnihost_jobs '<kind> <origin> <id>'
    // (kind: queued, running, progress, succeeded, failed, cancelled, removed), `origin` being
    // this host's worker id, so the other hosts show it at once.
    void set_origin(const std::string &worker) { origin_ = worker; }
    static constexpr const char *kNotifyChannel = "omnihost_jobs";
    std::string describe() const;              // "SQLite /x/jobs.db" or "PostgreSQL host:port/db"

    // Inserts a queued job unless `max_queued` jobs are already queued (returns 429 then) or the
    // id is used (409).
    submit_result insert(const stored_job &job, int64_t max_queued);

    std::optional<stored_job> get(const std::string &id);
    job_page list(const job_query &query);
    int64_t count_queued();
    // 1-based place of a queued job in the queue (0 when not queued).
    int64_t position_of(const std::string &id);

    // Takes the oldest queued job the filter allows: state running, worker, lease. nullopt when none.
    std::optional<stored_job> claim(const claim_filter &filter, const std::string &worker, int64_t lease_ms);
    // Puts a claimed job back at its place in the queue (the slot was busy after all).
    void unclaim(const std::string &id, const std::string &worker);
    // Extends our lease and stores the progress; tells whether a cancel was asked for.
    lease_state renew(const std::string &id, const std::string &worker, int64_t lease_ms, const job_progress_info &progress);
    // Records the end of a job we hold. Returns false when it was no longer ours (nothing written).
    bool finish(const std::string &id, const std::string &worker, job_phase state, const std::string &error,
                int error_status, const job_output &output, const nlohmann::json &metadata);

    // One step on the locked row: queued -> cancelled (Cancelled); running -> cancel_requested set
    // (CancelRequested); finished -> untouched (AlreadyFinished).
    job_cancel_outcome cancel(const std::string &id);
    // Removes a finished job's record (Removed, its output path in *output_path, "" if none);
    // NotFinished leaves a queued or running one alone.
    remove_outcome remove_finished(const std::string &id, std::string *output_path);

    // Jobs whose worker stopped renewing: back to the queue (or cancelled / failed, see reap_result).
    // `all_running`: every running job counts as abandoned (SQLite at start-up: we are the only host).
    reap_result reap(int max_attempts, bool all_running);

    // Recorded outputs, oldest finished first: for the disk quota.
    struct stored_output {
        std::string id;
        std::string path;
        int64_t bytes = 0;
    };
    std::vector<stored_output> outputs_oldest_first();
    int64_t output_bytes();
    void mark_evicted(const std::string &id);
    // Is `id` running under `worker` now? (the temporary-file sweep keeps such files)
    bool running_under(const std::string &id, const std::string &worker);

    job_stats stats();
    // Average seconds of the last finished jobs (for Retry-After); 0 when none.
    double recent_average_seconds();

private:
    template <typename F> auto locked(F &&body);
    void create_schema();
    std::string sql(const std::string &text) const; // '?' -> '$n' for PostgreSQL
    void notify(Poco::Data::Session &s, const std::string &kind, const std::string &id);
    std::string origin_;

    bool postgres_ = false;
    std::string description_;
    std::mutex mutex_;
    std::unique_ptr<Poco::Data::Session> session_;
    std::string connector_;
    std::string connection_;
};

} // namespace omnihost::jobs
