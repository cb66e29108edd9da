#include "jobs/job_manager.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "services/http_status.h"
#include "common/json_limits.h"
#include "jobs/output_files.h"
#include "log_bus/log_bus.h"
#include "slot/runtime_slot.h"

namespace omnihost::jobs {
namespace {

namespace fs = std::filesystem;

std::optional<task_kind> task_from_name(const std::string &name) {
    for (task_kind t : {task_kind::Image, task_kind::Video, task_kind::Audio, task_kind::Tts})
        if (name == task_name(t)) return t;
    return std::nullopt;
}

std::string random_hex(std::size_t bytes) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static const char *digits = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes; ++i) {
        const auto b = static_cast<unsigned>(rng() & 0xff);
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

// The tasks the loaded plan serves, among those that can be jobs (chat streams instead).
std::vector<std::string> served_tasks(const start_plan &plan) {
    std::vector<std::string> out;
    for (task_kind t : {task_kind::Image, task_kind::Video, task_kind::Audio, task_kind::Tts})
        if (modality_refusal(plan, t).empty()) out.push_back(task_name(t));
    return out;
}

bool inside(const fs::path &dir, const fs::path &path) {
    std::error_code ec;
    const auto d = fs::weakly_canonical(dir, ec);
    const auto p = fs::weakly_canonical(path, ec);
    const auto rel = p.lexically_relative(d);
    return !rel.empty() && *rel.begin() != "..";
}

} // namespace

std::string make_worker_id() {
    char host[256] = {0};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = 0;
    std::string name = host[0] ? host : "host";
    for (char &c : name)
        if (c == '.' || c == '/' || c == ' ') c = '_';
    return name + "-" + std::to_string(::getpid()) + "-" + random_hex(3);
}

class job_queue::subscription final : public job_subscription {
public:
    subscription(job_queue &owner, uint64_t key) : owner_(owner), key_(key) {}
    ~subscription() override {
        std::lock_guard lock(owner_.subscribers_mutex_);
        owner_.subscribers_.erase(key_);
    }

private:
    job_queue &owner_;
    uint64_t key_;
};

class job_queue::stream_turn final : public slot_turn {
public:
    explicit stream_turn(job_queue &owner) : owner_(owner) {}
    ~stream_turn() override {
        {
            std::lock_guard lock(owner_.mutex_);
            owner_.turn_held_ = false;
        }
        owner_.wake_.notify_all();
    }

private:
    job_queue &owner_;
};

job_queue::job_queue(job_database &store, runtime_slot &slot, log_bus::bus *bus, job_queue_options options)
    : store_(store), slot_(slot), bus_(bus), options_(std::move(options)) {
    if (options_.worker_id.empty()) options_.worker_id = make_worker_id();
    store_.set_origin(options_.worker_id);
    if (options_.lease < std::chrono::milliseconds(300)) options_.lease = std::chrono::milliseconds(300);
}

job_queue::~job_queue() { stop(); }

void job_queue::start() {
    std::error_code ec;
    fs::create_directories(options_.output_dir, ec);
    // An output folder that is a file or not writable would fail every job after a start that
    // looked fine: refuse the start instead, naming the folder.
    if (!fs::is_directory(options_.output_dir, ec))
        throw store_error("job outputs " + options_.output_dir + ": not a folder and cannot be created");
    const std::string probe = (fs::path(options_.output_dir) / (".write-probe." + options_.worker_id + ".tmp")).string();
    const int probe_fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (probe_fd < 0)
        throw store_error("job outputs " + options_.output_dir + ": cannot write there: " + std::strerror(errno));
    ::close(probe_fd);
    ::unlink(probe.c_str());
    // A SQLite store has one host: whatever it shows running was running in a process that is gone.
    reap(!store_.shared());
    const int swept = sweep_temporaries(options_.output_dir, [this](const std::string &job, const std::string &worker) {
        try {
            return store_.running_under(job, worker);
        } catch (const store_error &) {
            return true; // unsure: keep it
        }
    });
    if (swept > 0) spdlog::info("jobs: removed {} unfinished output file(s) left by a stopped writer", swept);
    spdlog::info("jobs: {} (queue depth {}, outputs in {}, worker {})", store_.describe(), options_.queue_depth,
                 options_.output_dir, options_.worker_id);
    worker_ = std::thread([this] { worker_loop(); });
    if (store_.shared()) {
        // Other hosts' job changes reach this host's WebSocket clients as they happen.
        listener_ = std::make_unique<pg_listener>(store_.libpq_connection(), job_database::kNotifyChannel,
                                                 [this](const std::string &payload) { on_remote_event(payload); });
        listener_->start();
    }
}

void job_queue::stop() {
    std::string running;
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !worker_.joinable()) return;
        stopping_ = true;
        running = running_id_;
    }
    if (listener_) listener_->stop();
    // Never call the slot under mutex_: its progress callbacks take mutex_.
    if (!running.empty()) slot_.cancel(running);
    wake_.notify_all();
    turn_cv_.notify_all();
    if (worker_.joinable()) worker_.join();
    notify_finished();
}

void job_queue::reap(bool all_running) {
    try {
        const reap_result r = store_.reap(options_.max_attempts, all_running);
        for (const auto &id : r.requeued) {
            spdlog::warn("job {}: its worker stopped while running it; back in the queue", id);
            if (auto job = store_.get(id)) publish("queued", *job);
        }
        for (const auto &id : r.cancelled)
            if (auto job = store_.get(id)) publish("cancelled", *job);
        for (const auto &id : r.failed) {
            spdlog::error("job {}: failed, its workers kept stopping while running it", id);
            if (auto job = store_.get(id)) publish("failed", *job);
        }
        if (!r.cancelled.empty() || !r.failed.empty()) notify_finished();
    } catch (const store_error &e) {
        spdlog::error("jobs: {}", e.what());
    }
    last_reap_ = std::chrono::steady_clock::now();
}

void job_queue::worker_loop() {
    const std::string &worker = options_.worker_id;
    for (;;) {
        std::shared_ptr<turn_ticket> front; // the oldest waiting streamed call
        {
            std::unique_lock lock(mutex_);
            if (stopping_) return;
            if (turn_held_) {
                // A streamed call runs: nothing starts until it hands the slot back.
                wake_.wait_for(lock, options_.poll, [this] { return stopping_ || !turn_held_; });
                continue;
            }
            if (!turns_.empty()) front = turns_.front();
        }
        // A shared store: another host's worker may have died; its jobs come back after its lease.
        if (store_.shared() && std::chrono::steady_clock::now() - last_reap_ >= options_.lease / 2) reap(false);
        const slot_snapshot snap = slot_.snapshot();
        std::optional<stored_job> job;
        if (snap.state == slot_state::Ready && snap.plan && !snap.job) {
            // First in, first out: while a streamed call waits, only jobs submitted before it go first.
            claim_filter filter{snap.plan->model, served_tasks(*snap.plan), front ? front->arrived_ms : 0};
            try {
                job = store_.claim(filter, worker, options_.lease.count());
            } catch (const store_error &e) {
                spdlog::error("jobs: cannot claim: {}", e.what());
            }
            if (!job && front && grant_turn(front)) continue;
        } else if (front && snap.state != slot_state::Ready) {
            // No model to wait for: the call is refused by the slot at once, as it was before.
            if (grant_turn(front)) continue;
        }
        if (job) {
            run_job(std::move(*job));
            continue;
        }
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, options_.poll, [this] { return stopping_; });
    }
}

void job_queue::run_job(stored_job job) {
    const std::string &worker = options_.worker_id;
    {
        std::lock_guard lock(mutex_);
        running_id_ = job.id;
        tracker_.reset();
        last_progress_event_ = {};
    }
    publish("running", job);
    spdlog::info("job {}: running ({}, attempt {})", job.id, job.task, job.attempts);

    generate_call call;
    call.task = task_from_name(job.task).value_or(task_kind::Image);
    call.job_id = job.id;
    call.request = job.request;
    std::future<generate_reply> pending = slot_.generate_async(std::move(call));

    bool lost = false;
    bool shutting_down = false;
    bool cancel_sent = false;
    // The lease is renewed (and the progress stored, for other hosts' views) every third of the
    // lease, at least once a second.
    const auto renew_every = std::min<std::chrono::milliseconds>(options_.lease / 3, std::chrono::seconds(1));
    auto last_renew = std::chrono::steady_clock::now();
    while (pending.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
        bool stop_now;
        {
            std::lock_guard lock(mutex_);
            stop_now = stopping_;
        }
        if (stop_now && !cancel_sent) {
            shutting_down = true;
            cancel_sent = true;
            slot_.cancel(job.id);
        }
        if (std::chrono::steady_clock::now() - last_renew < renew_every) continue;
        last_renew = std::chrono::steady_clock::now();
        job_progress_info progress;
        {
            std::lock_guard lock(mutex_);
            progress = tracker_.progress();
        }
        try {
            const lease_state lease = store_.renew(job.id, worker, options_.lease.count(), progress);
            if (!lease.held && !lost) {
                // Our lease ran out and another worker owns the job now: its result is theirs.
                lost = true;
                spdlog::warn("job {}: lease lost to another worker; abandoning this run", job.id);
                slot_.cancel(job.id);
            } else if (lease.cancel_requested && !cancel_sent) {
                cancel_sent = true;
                slot_.cancel(job.id);
            }
        } catch (const store_error &e) {
            spdlog::error("job {}: cannot renew its lease: {}", job.id, e.what());
        }
    }
    generate_reply reply = pending.get();
    {
        std::lock_guard lock(mutex_);
        running_id_.clear();
        job.progress = tracker_.progress();
    }
    if (lost) return;

    // The slot was busy after all (a chat stream took it between our look and our call): the job
    // goes back to its place in the queue.
    if (reply.refusal.outcome == slot_outcome::busy) {
        store_.unclaim(job.id, worker);
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, options_.poll, [this] { return stopping_; });
        return;
    }
    if (shutting_down && (reply.cancelled || reply.refusal.refused())) {
        // Not the client's cancel: the host is stopping. The job runs again later.
        try {
            store_.unclaim(job.id, worker);
        } catch (const store_error &) {
        }
        return;
    }

    job_phase state = job_phase::Succeeded;
    std::string error;
    int error_status = 0;
    job_output output;
    nlohmann::json metadata = nlohmann::json::object();
    if (reply.refusal.refused()) {
        state = job_phase::Failed;
        error = reply.refusal.error;
        error_status = http_status_for(reply.refusal.outcome);
    } else if (reply.cancelled) {
        state = job_phase::Cancelled;
        error = "cancelled";
        error_status = 409;
    } else if (!reply.status.ok()) {
        state = job_phase::Failed;
        error = reply.status.message.empty() ? "generation failed" : reply.status.message;
        error_status = http_status_for(reply.status.code);
    } else {
        auto parsed = parse_json_bounded_or_discarded(reply.result.metadata_json);
        if (parsed.is_object()) metadata = std::move(parsed);
        output.mime_type = reply.result.mime_type;
        output.bytes = static_cast<int64_t>(reply.result.data.size());
        try {
            output.path = write_output_atomically(options_.output_dir, job.id, worker, reply.result.mime_type,
                                                  reply.result.data);
        } catch (const std::exception &e) {
            state = job_phase::Failed;
            error = std::string("the output could not be stored: ") + e.what();
            error_status = 507;
            output = {};
        }
    }
    bool recorded = false;
    try {
        recorded = store_.finish(job.id, worker, state, error, error_status, output, metadata);
    } catch (const store_error &e) {
        spdlog::error("job {}: cannot record its end: {}", job.id, e.what());
    }
    if (!recorded) {
        // Not ours any more (removed, or taken over): the file would be listed by nobody.
        if (!output.path.empty()) {
            std::error_code ec;
            fs::remove(output.path, ec);
        }
        notify_finished();
        return;
    }
    spdlog::info("job {}: {}{}", job.id, job_state_name(state), error.empty() ? "" : ": " + error);
    if (state == job_phase::Succeeded) enforce_quota(job.id);
    if (auto finished = store_.get(job.id)) publish(job_state_name(state), *finished);
    notify_finished();
}

void job_queue::enforce_quota(const std::string &keep_id) {
    if (options_.output_quota_bytes <= 0) return;
    try {
        int64_t total = store_.output_bytes();
        if (total <= options_.output_quota_bytes) return;
        for (const auto &stored : store_.outputs_oldest_first()) {
            if (total <= options_.output_quota_bytes) break;
            if (stored.id == keep_id) continue;
            std::error_code ec;
            if (inside(options_.output_dir, stored.path)) fs::remove(stored.path, ec);
            store_.mark_evicted(stored.id);
            total -= stored.bytes;
            spdlog::info("job {}: output evicted by the disk quota ({} bytes)", stored.id, stored.bytes);
        }
    } catch (const store_error &e) {
        spdlog::error("jobs: quota: {}", e.what());
    }
}

void job_queue::on_progress(const std::string &job_id, int32_t step, int32_t total, const std::string &phase,
                             const std::string &message) {
    stored_job view;
    {
        std::lock_guard lock(mutex_);
        if (job_id.empty() || job_id != running_id_) return;
        tracker_.update(step, total, phase, message);
        // Events at most 4 a second per job, and always the last step of a phase.
        const auto now = std::chrono::steady_clock::now();
        if (now - last_progress_event_ < std::chrono::milliseconds(250) && !(total > 0 && step >= total)) return;
        last_progress_event_ = now;
        view.id = job_id;
        view.state = job_phase::Running;
        view.progress = tracker_.progress();
        view.worker = options_.worker_id;
    }
    publish("progress", view);
}

submit_result job_queue::submit(job_submission submission) {
    stored_job job;
    job.id = submission.id.empty() ? "job-" + std::to_string(now_epoch_ms()) + "-" + random_hex(4) : submission.id;
    submit_result refused;
    if (!valid_job_id(job.id)) {
        refused.http_status = 400;
        refused.field = "job_id";
        refused.error = "job_id: must match [A-Za-z0-9_-]{1,64}";
        return refused;
    }
    if (!task_from_name(submission.task)) {
        refused.http_status = 400;
        refused.field = "task";
        refused.error = "task: must be one of image, video, audio, tts";
        return refused;
    }
    job.task = submission.task;
    job.model = submission.model;
    job.request = std::move(submission.request);
    job.created_ms = now_epoch_ms();
    submit_result result;
    // Streamed calls waiting for their turn take places in the same queue.
    int64_t max_queued = options_.queue_depth;
    if (max_queued > 0) {
        std::lock_guard lock(mutex_);
        max_queued = std::max<int64_t>(max_queued - static_cast<int64_t>(turns_.size()), 0);
    }
    try {
        if (options_.queue_depth > 0 && max_queued == 0) {
            result.http_status = 429;
            result.error = "the job queue is full (streamed calls waiting, --queue-depth " +
                           std::to_string(options_.queue_depth) + "); try again later";
        } else {
            result = store_.insert(job, max_queued);
        }
        if (result.http_status == 429) {
            const double average = store_.recent_average_seconds();
            result.retry_after_s = static_cast<int>(std::clamp(std::ceil(average > 0 ? average : 1.0), 1.0, 3600.0));
        }
    } catch (const store_error &e) {
        result.http_status = 503;
        result.error = std::string("the job database is not available: ") + e.what();
        return result;
    }
    if (result.http_status != 202) return result;
    job.position = result.position;
    publish("queued", job);
    wake_.notify_all();
    return result;
}

std::optional<stored_job> job_queue::get(const std::string &id) {
    auto job = store_.get(id);
    if (job && job->state == job_phase::Running) {
        // Our own running job: the live progress, not the last renewal's.
        std::lock_guard lock(mutex_);
        if (running_id_ == id) job->progress = tracker_.progress();
    }
    return job;
}

job_page job_queue::list(const job_query &query) {
    job_page page = store_.list(query);
    std::lock_guard lock(mutex_);
    for (auto &job : page.items)
        if (job.state == job_phase::Running && job.id == running_id_) job.progress = tracker_.progress();
    return page;
}

job_cancel_outcome job_queue::cancel(const std::string &id) {
    const job_cancel_outcome outcome = store_.cancel(id);
    if (outcome == job_cancel_outcome::Cancelled) {
        if (auto now_job = store_.get(id)) publish("cancelled", *now_job);
        notify_finished();
    } else if (outcome == job_cancel_outcome::CancelRequested) {
        bool ours;
        {
            std::lock_guard lock(mutex_);
            ours = running_id_ == id;
        }
        // Ours: cancelled at once. Another host's worker sees the flag at its next lease renewal.
        if (ours) slot_.cancel(id);
    }
    return outcome;
}

bool job_queue::cancel_if_pending(const std::string &id) {
    const job_cancel_outcome outcome = cancel(id);
    return outcome == job_cancel_outcome::Cancelled || outcome == job_cancel_outcome::CancelRequested;
}

remove_outcome job_queue::remove(const std::string &id) {
    auto job = store_.get(id);
    if (!job) return remove_outcome::NotFound;
    std::string path;
    const remove_outcome outcome = store_.remove_finished(id, &path);
    if (outcome != remove_outcome::Removed) return outcome;
    if (!path.empty() && inside(options_.output_dir, path)) {
        std::error_code ec;
        fs::remove(path, ec);
    }
    publish("removed", *job);
    notify_finished();
    return outcome;
}

std::optional<job_output> job_queue::output(const std::string &id) {
    auto job = store_.get(id);
    if (!job || job->state != job_phase::Succeeded || job->output.path.empty()) return std::nullopt;
    return job->output;
}

std::optional<stored_job> job_queue::wait_finished(const std::string &id, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        uint64_t seen;
        {
            std::lock_guard lock(mutex_);
            seen = finished_count_;
        }
        auto job = store_.get(id);
        if (!job || is_terminal(job->state) || closing()) return job;
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return job;
        // Woken by any local end; a job another host finishes is seen by the periodic look.
        std::unique_lock lock(mutex_);
        finished_cv_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(500)),
                                [&] { return finished_count_ != seen || stopping_; });
    }
}

std::unique_ptr<job_subscription> job_queue::subscribe(std::function<void(const job_event &)> on_event) {
    std::lock_guard lock(subscribers_mutex_);
    const uint64_t key = ++next_subscriber_;
    subscribers_[key] = std::move(on_event);
    return std::make_unique<subscription>(*this, key);
}

bool job_queue::closing() {
    std::lock_guard lock(mutex_);
    return stopping_;
}

bool job_queue::grant_turn(const std::shared_ptr<turn_ticket> &front) {
    {
        std::lock_guard lock(mutex_);
        // It gave up meanwhile: look again (the next one may have jobs submitted before it).
        if (turns_.empty() || turns_.front() != front) return false;
        turns_.pop_front();
        front->granted = true;
        turn_held_ = true;
    }
    turn_cv_.notify_all();
    return true;
}

int job_queue::retry_after_s() {
    double average = 0;
    try {
        average = store_.recent_average_seconds();
    } catch (const store_error &) {
    }
    return static_cast<int>(std::clamp(std::ceil(average > 0 ? average : 1.0), 1.0, 3600.0));
}

turn_result job_queue::wait_turn(const std::string &label, const std::function<bool()> &gave_up) {
    turn_result result;
    int64_t queued = 0;
    try {
        queued = store_.count_queued();
    } catch (const store_error &e) {
        result.http_status = 503;
        result.error = std::string("the job database is not available: ") + e.what();
        return result;
    }
    auto ticket = std::make_shared<turn_ticket>();
    size_t ahead = 0;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            result.http_status = 503;
            result.error = "the host is shutting down";
            return result;
        }
        const int64_t waiting = queued + static_cast<int64_t>(turns_.size());
        if (options_.queue_depth > 0 && waiting >= options_.queue_depth) {
            result.http_status = 429;
            result.error = "the queue is full (" + std::to_string(waiting) + " waiting, --queue-depth " +
                           std::to_string(options_.queue_depth) + "); try again later";
        } else {
            ticket->arrived_ms = now_epoch_ms();
            ahead = turns_.size() + (turn_held_ || !running_id_.empty() ? 1 : 0);
            turns_.push_back(ticket);
        }
    }
    if (result.http_status == 429) {
        result.retry_after_s = retry_after_s();
        return result;
    }
    wake_.notify_all();
    if (ahead > 0 || queued > 0) spdlog::info("{}: waits its turn ({} stream(s) or job(s) ahead of it)", label, ahead + queued);
    std::unique_lock lock(mutex_);
    while (!ticket->granted && !stopping_) {
        if (turn_cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return ticket->granted || stopping_; })) break;
        lock.unlock();
        const bool gone = gave_up && gave_up();
        lock.lock();
        if (gone && !ticket->granted) {
            turns_.erase(std::find(turns_.begin(), turns_.end(), ticket));
            lock.unlock();
            wake_.notify_all();
            result.http_status = 499;
            result.error = "the client went away while waiting in the queue";
            return result;
        }
    }
    if (!ticket->granted) {
        const auto place = std::find(turns_.begin(), turns_.end(), ticket);
        if (place != turns_.end()) turns_.erase(place);
        result.http_status = 503;
        result.error = "the host is shutting down";
        return result;
    }
    lock.unlock();
    result.turn = std::make_unique<stream_turn>(*this);
    return result;
}

job_stats job_queue::stats() {
    job_stats stats = store_.stats();
    stats.queue_depth_limit = options_.queue_depth;
    return stats;
}

namespace {
stored_job slim(const stored_job &job) {
    stored_job out = job;
    out.request = nlohmann::json::object();
    for (const char *key : {"prompt", "text", "seed"})
        if (job.request.contains(key)) out.request[key] = job.request[key];
    return out;
}
} // namespace

void job_queue::publish_to_bus(const std::string &kind, const stored_job &job) {
    if (!bus_) return;
    nlohmann::json frame = {{"event", kind}, {"job", job_to_json(job, false)}};
    bus_->publish_event("job", frame.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// "<kind> <origin worker> <id>" from another host (job_store.h). Only the WebSocket hears it:
// subscribers (/metrics) count this host's own jobs.
void job_queue::on_remote_event(const std::string &payload) {
    const auto first = payload.find(' ');
    const auto second = first == std::string::npos ? std::string::npos : payload.find(' ', first + 1);
    if (second == std::string::npos) return;
    const std::string kind = payload.substr(0, first);
    const std::string origin = payload.substr(first + 1, second - first - 1);
    const std::string id = payload.substr(second + 1);
    if (origin == options_.worker_id || !valid_job_id(id)) return; // ours: already published here
    if (kind == "removed") {
        stored_job gone;
        gone.id = id;
        publish_to_bus(kind, gone);
        notify_finished();
        return;
    }
    const auto job = store_.get(id);
    if (!job) return;
    publish_to_bus(kind, slim(*job));
    if (is_terminal(job->state)) notify_finished(); // a local wait_finished() on it wakes now
}

void job_queue::publish(const std::string &kind, const stored_job &job) {
    job_event event{kind, slim(job)};
    publish_to_bus(kind, event.job);
    std::lock_guard lock(subscribers_mutex_);
    for (auto &[key, callback] : subscribers_) {
        try {
            callback(event);
        } catch (...) {
            // A subscriber's failure is its own.
        }
    }
}

void job_queue::notify_finished() {
    {
        std::lock_guard lock(mutex_);
        ++finished_count_;
    }
    finished_cv_.notify_all();
}

} // namespace omnihost::jobs
