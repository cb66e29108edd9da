#include "slot/runtime_slot.h"

#include <ctime>
#include <future>
#include <string_view>

#include <spdlog/spdlog.h>

namespace omnihost {

const char *slot_state_name(SlotState state) {
    switch (state) {
    case SlotState::Idle: return "idle";
    case SlotState::Starting: return "starting";
    case SlotState::Ready: return "ready";
    case SlotState::Stopping: return "stopping";
    case SlotState::Failed: return "failed";
    }
    return "?";
}

namespace {

std::string iso_now() {
    const auto now = std::chrono::system_clock::now();
    const auto seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(millis));
    return buffer;
}

const char *status_word(omnihost_status code) {
    switch (code) {
    case OMNIHOST_OK: return "ok";
    case OMNIHOST_INVALID_ARGUMENT: return "invalid argument";
    case OMNIHOST_NOT_SUPPORTED: return "not supported";
    case OMNIHOST_OUT_OF_MEMORY: return "out of memory";
    case OMNIHOST_CANCELLED: return "cancelled";
    case OMNIHOST_UNAVAILABLE: return "unavailable";
    default: return "internal error";
    }
}

std::string seconds_text(std::chrono::milliseconds span) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g s", static_cast<double>(span.count()) / 1000.0);
    return buffer;
}

using Clock = std::chrono::steady_clock;
constexpr Clock::time_point no_deadline = Clock::time_point::max();

} // namespace

struct RuntimeSlot::Job {
    std::string id;
    std::string task;
    std::string started_at = iso_now();
    std::atomic<bool> cancelled{false};
    std::mutex progress_mutex;
    ProgressView progress;
    // Closed when the job's call is abandoned: a plugin that calls back later reaches nothing of
    // the host (the sink may be gone by then).
    std::mutex hook_mutex;
    bool hooks_closed = false;
};

// One plugin call in flight on the worker. It is settled exactly once: by the worker when the call
// returns (end_call) or by abandon() when its deadline passed; `mutex` decides which came first.
struct RuntimeSlot::Call {
    const char *what = "";        // "start", "generate", "stop", "destroy"
    std::shared_ptr<Job> job;     // cancelling it arms the cancel deadline; null for stop/destroy
    std::function<void(const std::string &)> on_abandon; // answers a caller waiting on it
    // Guarded by the slot's mutex_:
    Clock::time_point deadline = no_deadline;
    std::string why;              // what it will be blamed for when the deadline passes
    // Guarded by `mutex`:
    std::mutex mutex;
    bool settled = false;
    bool abandoned = false;
};

// The answer to one generate_async caller, given exactly once: by the worker when the plugin
// returned, by abandon() when it did not, or on destruction when the task was dropped unrun.
class RuntimeSlot::Answer {
public:
    std::future<GenerateReply> future() { return promise_.get_future(); }
    void set(GenerateReply reply) {
        std::lock_guard lock(mutex_);
        if (done_) return;
        done_ = true;
        promise_.set_value(std::move(reply));
    }
    ~Answer() {
        GenerateReply dropped;
        dropped.refusal = {503, "the host is shutting down"};
        set(std::move(dropped));
    }

private:
    std::mutex mutex_;
    bool done_ = false;
    std::promise<GenerateReply> promise_;
};

RuntimeSlot::RuntimeSlot(BackendFactory factory, ProgressSink progress_sink,
                         std::chrono::milliseconds health_interval, SlotDeadlines deadlines)
    : factory_(std::move(factory)), progress_sink_(std::move(progress_sink)),
      health_interval_(health_interval), deadlines_(deadlines),
      worker_(std::make_unique<SerialWorker>()) {
    health_thread_ = std::thread([this] { health_loop(); });
    watchdog_thread_ = std::thread([this] { watchdog_loop(); });
}

RuntimeSlot::~RuntimeSlot() { shutdown(std::chrono::seconds(30)); }

JobHooks RuntimeSlot::make_hooks(const std::shared_ptr<Job> &job,
                                 std::function<void(const std::string &)> emit) {
    JobHooks hooks;
    hooks.job_id = job->id;
    // Copies, not `this`: the hooks may be called by a thread the slot has abandoned.
    hooks.progress = [job, sink = progress_sink_](int32_t step, int32_t total, const std::string &phase,
                                                  const std::string &message) {
        {
            std::lock_guard lock(job->progress_mutex);
            job->progress = {step, total, phase, message};
        }
        std::lock_guard gate(job->hook_mutex);
        if (!job->hooks_closed && sink) sink(job->id, step, total, phase, message);
    };
    hooks.is_cancelled = [job] { return job->cancelled.load(std::memory_order_relaxed); };
    if (emit)
        hooks.emit = [job, emit = std::move(emit)](const std::string &event) {
            std::lock_guard gate(job->hook_mutex);
            if (!job->hooks_closed) emit(event);
        };
    return hooks;
}

void RuntimeSlot::post_locked(std::function<void()> task) {
    // Posting under mutex_ keeps the queue in the order the state changed in (a teardown queued by
    // a health failure always runs before the load of a start that came after it).
    if (worker_) worker_->post(std::move(task));
}

void RuntimeSlot::request_cancel_locked(const std::shared_ptr<Job> &job) {
    if (!job) return;
    job->cancelled = true;
    if (current_call_ && current_call_->job == job && current_call_->deadline == no_deadline &&
        deadlines_.cancel.count() > 0) {
        current_call_->deadline = Clock::now() + deadlines_.cancel;
        current_call_->why = "ignored its cancel for " + seconds_text(deadlines_.cancel);
        watch_cv_.notify_all();
    }
}

std::shared_ptr<RuntimeSlot::Call> RuntimeSlot::begin_call(const char *what, std::shared_ptr<Job> job,
                                                           std::function<void(const std::string &)> on_abandon) {
    auto call = std::make_shared<Call>();
    call->what = what;
    call->job = std::move(job);
    call->on_abandon = std::move(on_abandon);
    std::lock_guard lock(mutex_);
    current_call_ = call;
    if (!call->job && deadlines_.stop.count() > 0) {
        call->deadline = Clock::now() + deadlines_.stop;
        call->why = "did not return within " + seconds_text(deadlines_.stop);
    } else if (call->job && call->job->cancelled) {
        request_cancel_locked(call->job);
    }
    watch_cv_.notify_all();
    return call;
}

bool RuntimeSlot::end_call(const std::shared_ptr<Call> &call) {
    {
        std::lock_guard lock(call->mutex);
        if (call->abandoned) return false;
        call->settled = true;
    }
    // Not abandoned, so shutdown is still waiting for this worker: the slot is alive.
    std::lock_guard lock(mutex_);
    if (current_call_ == call) current_call_.reset();
    watch_cv_.notify_all();
    return true;
}

void RuntimeSlot::abandon(const std::shared_ptr<Call> &call, const std::string &why) {
    {
        std::lock_guard lock(call->mutex);
        if (call->settled) return; // it came back in time after all
        call->settled = true;
        call->abandoned = true;
    }
    if (call->job) {
        std::lock_guard gate(call->job->hook_mutex);
        call->job->hooks_closed = true;
    }
    const std::string reason = "plugin " + std::string(call->what) + " " + why +
                               "; its instance was abandoned, not destroyed (a call is still running "
                               "in it), and its memory is reclaimed only when the host exits";
    spdlog::error("{}", reason);
    const bool in_installed = std::string_view(call->what) == "generate";
    if (in_installed) {
        // The instance a stuck generate runs in stays allocated for good. A stuck start or stop
        // holds its instance on the worker's stack and leaks it there when (if) the call returns.
        std::lock_guard lock(backend_mutex_);
        (void)backend_.release();
        backend_epoch_ = 0;
    }
    {
        std::lock_guard lock(mutex_);
        if (current_call_ == call) current_call_.reset();
        ++abandoned_;
        state_ = SlotState::Failed;
        error_ = reason;
        load_job_.reset();
        generation_job_.reset();
        health_json_.clear();
        // The stuck thread keeps the old worker's queue state alive by itself; what was queued
        // behind the call (stop, teardown, shutdown's last task) runs on a fresh worker.
        std::deque<SerialWorker::Task> pending;
        if (worker_) pending = worker_->abandon();
        worker_ = std::make_unique<SerialWorker>();
        for (auto &task : pending) worker_->post(std::move(task));
        // Anything installed that is not the stuck call's own instance is healthy: unload it.
        if (!in_installed) worker_->post([this] { run_teardown(0); });
    }
    state_cv_.notify_all();
    watch_cv_.notify_all();
    if (call->on_abandon) call->on_abandon(reason);
}

void RuntimeSlot::watchdog_loop() {
    std::unique_lock lock(mutex_);
    while (!watchdog_stop_) {
        const std::shared_ptr<Call> call = current_call_;
        const Clock::time_point deadline = call ? call->deadline : no_deadline;
        if (deadline == no_deadline) {
            watch_cv_.wait(lock);
            continue;
        }
        if (Clock::now() < deadline) {
            watch_cv_.wait_until(lock, deadline);
            continue;
        }
        const std::string why = call->why;
        lock.unlock();
        abandon(call, why);
        lock.lock();
    }
}

SlotReply RuntimeSlot::start(StartPlan plan) {
    std::shared_ptr<Job> job;
    uint64_t epoch = 0;
    {
        std::lock_guard lock(mutex_);
        if (closing_) return {503, "the host is shutting down"};
        if (state_ == SlotState::Starting || state_ == SlotState::Ready)
            return {409, "vLLM-Omni server is already running (" + std::string(slot_state_name(state_)) +
                             ": " + (plan_ ? plan_->model : "") + "); stop it first"};
        if (state_ == SlotState::Stopping)
            return {409, "the previous model is still stopping; try again in a moment"};
        job = std::make_shared<Job>();
        job->id = "load-" + std::to_string(++job_counter_);
        job->task = "load";
        state_ = SlotState::Starting;
        error_.clear();
        health_json_.clear();
        plan_ = plan;
        load_job_ = job;
        started_at_ = std::chrono::steady_clock::now();
        epoch = ++epoch_;
        spdlog::info("starting model {} ({} / {}) with plugin {}", plan.model, plan.model_type,
                     plan.run_mode, plan.plugin_id);
        post_locked([this, epoch, job, plan = std::move(plan)]() mutable {
            run_load(epoch, job, std::move(plan));
        });
    }
    state_cv_.notify_all();
    return {202, ""};
}

void RuntimeSlot::run_load(uint64_t epoch, std::shared_ptr<Job> job, StartPlan plan) {
    std::string create_error;
    std::unique_ptr<Backend> backend;
    BackendStatus status{OMNIHOST_CANCELLED, "cancelled before the load began"};
    if (!job->cancelled) {
        // Everything the call needs is local: an abandoned call must not reach into the slot.
        const BackendFactory factory = factory_;
        const JobHooks hooks = make_hooks(job);
        const std::string start_json = plan.start_json.dump();
        const auto call = begin_call("start", job);
        backend = factory(plan.plugin_id, create_error);
        if (backend && !job->cancelled) status = backend->start(start_json, hooks);
        else if (!backend && !job->cancelled)
            status = {OMNIHOST_INTERNAL, "cannot create plugin instance: " + create_error};
        if (!end_call(call)) {
            (void)backend.release(); // abandoned: it is no longer ours to destroy
            return;
        }
    }
    bool keep = false;
    {
        std::lock_guard lock(mutex_);
        if (epoch != epoch_ || state_ != SlotState::Starting) {
            // stop() arrived during the load: hand the instance to run_stop, which is queued next.
            keep = true;
        } else if (status.ok()) {
            state_ = SlotState::Ready;
            load_job_.reset();
            keep = true;
        } else {
            state_ = SlotState::Failed;
            error_ = "start failed (" + std::string(status_word(status.code)) + "): " + status.message;
            load_job_.reset();
        }
    }
    state_cv_.notify_all();
    if (status.ok() && keep) spdlog::info("model {} is ready", plan.model);
    else if (!keep) spdlog::error("model {} failed to start: {}", plan.model, status.message);
    if (keep) {
        if (backend) install(std::move(backend), epoch);
    } else if (backend) {
        unload(std::move(backend)); // failed start: release whatever the plugin half-built
    }
    state_cv_.notify_all();
}

bool RuntimeSlot::install(std::unique_ptr<Backend> backend, uint64_t epoch) {
    std::unique_ptr<Backend> previous;
    {
        std::lock_guard lock(backend_mutex_);
        previous = std::move(backend_);
        backend_epoch_ = 0;
    }
    if (previous) {
        // Cannot happen while every teardown is queued before the next load; if it ever does, the
        // old instance is still stopped properly rather than destroyed in passing.
        spdlog::warn("an earlier plugin instance was still installed; unloading it");
        if (!unload(std::move(previous))) {
            (void)backend.release(); // abandoned meanwhile: nothing here is ours to touch
            return false;
        }
    }
    std::lock_guard lock(backend_mutex_);
    backend_ = std::move(backend);
    backend_epoch_ = epoch;
    return true;
}

bool RuntimeSlot::unload(std::unique_ptr<Backend> backend) {
    auto call = begin_call("stop", nullptr);
    const BackendStatus status = backend->stop();
    if (!end_call(call)) {
        (void)backend.release();
        return false;
    }
    if (!status.ok()) spdlog::warn("plugin stop reported: {}", status.message);
    call = begin_call("destroy", nullptr);
    backend.reset();
    return end_call(call);
}

SlotReply RuntimeSlot::stop(std::chrono::milliseconds wait) {
    {
        std::lock_guard lock(mutex_);
        switch (state_) {
        case SlotState::Idle: return {409, "vLLM-Omni server is not running"};
        case SlotState::Stopping: return {409, "the model is already stopping"};
        case SlotState::Failed:
            // The instance is already gone, abandoned, or its teardown is queued (bound to that
            // instance, so a start right after cannot make it miss); just forget the failure.
            state_ = SlotState::Idle;
            error_.clear();
            plan_.reset();
            state_cv_.notify_all();
            return {200, ""};
        case SlotState::Starting:
        case SlotState::Ready:
            request_cancel_locked(load_job_);
            request_cancel_locked(generation_job_);
            state_ = SlotState::Stopping;
            post_locked([this] { run_stop(); });
            break;
        }
    }
    state_cv_.notify_all();
    spdlog::info("stopping the model");
    const bool done = wait_for_state({SlotState::Idle, SlotState::Starting, SlotState::Failed}, wait);
    return {done ? 200 : 202, ""};
}

void RuntimeSlot::run_stop() {
    std::unique_ptr<Backend> backend;
    {
        std::lock_guard lock(backend_mutex_);
        backend = std::move(backend_);
        backend_epoch_ = 0;
    }
    if (backend && !unload(std::move(backend))) return;
    bool stopped = false;
    {
        std::lock_guard lock(mutex_);
        if (state_ == SlotState::Stopping) {
            state_ = SlotState::Idle;
            plan_.reset();
            load_job_.reset();
            error_.clear();
            health_json_.clear();
            stopped = true;
        }
    }
    state_cv_.notify_all();
    if (stopped) spdlog::info("model stopped");
}

void RuntimeSlot::run_teardown(uint64_t epoch) {
    // Bound to the instance of `epoch` (0 = whatever is installed), not to the slot's current
    // epoch: a stop+start right after a failure must neither skip this nor have it hit the new one.
    std::unique_ptr<Backend> backend;
    {
        std::lock_guard lock(backend_mutex_);
        if (!backend_ || (epoch != 0 && backend_epoch_ != epoch)) return;
        backend = std::move(backend_);
        backend_epoch_ = 0;
    }
    unload(std::move(backend));
}

std::string modality_refusal(const StartPlan &plan, Task task) {
    const std::string wanted = task_model_type(task);
    if (plan.model_type == wanted) return "";
    const std::string who = plan.plugin_kind == "inprocess" ? "In-process model" : "Loaded model";
    return who + " is not " + model_type_article(wanted) + " model (loaded: " + plan.model + ", " +
           plan.model_type + ")";
}

GenerateReply RuntimeSlot::generate(GenerateCall call) { return generate_async(std::move(call)).get(); }

std::future<GenerateReply> RuntimeSlot::generate_async(GenerateCall call) {
    auto answer = std::make_shared<Answer>();
    auto future = answer->future();
    auto refuse = [&](int status, std::string message) {
        GenerateReply reply;
        reply.refusal = {status, std::move(message)};
        answer->set(std::move(reply));
        return std::move(future);
    };
    std::lock_guard lock(mutex_);
    if (closing_) return refuse(503, "the host is shutting down");
    if (state_ != SlotState::Ready)
        return refuse(503, std::string("model is not ready (state: ") + slot_state_name(state_) +
                               (error_.empty() ? "" : ", " + error_) + ")");
    if (plan_) {
        if (auto refusal = modality_refusal(*plan_, call.task); !refusal.empty())
            return refuse(409, refusal);
    }
    if (generation_job_)
        return refuse(409, "busy: job " + generation_job_->id + " is running; one generation at a time");
    auto job = std::make_shared<Job>();
    job->id = call.job_id.empty() ? "job-" + std::to_string(++job_counter_) : call.job_id;
    job->task = task_name(call.task);
    generation_job_ = job;
    post_locked([this, job, call = std::move(call), answer]() mutable {
        run_generate(job, std::move(call), answer);
    });
    return future;
}

void RuntimeSlot::run_generate(std::shared_ptr<Job> job, GenerateCall call, std::shared_ptr<Answer> answer) {
    GenerateReply reply;
    Backend *backend = nullptr;
    {
        std::lock_guard lock(backend_mutex_);
        backend = backend_.get();
    }
    const JobHooks hooks = make_hooks(job, call.emit);
    const auto t0 = Clock::now();
    if (!backend) {
        reply.status = {OMNIHOST_UNAVAILABLE, "no model is loaded"};
    } else if (job->cancelled) {
        reply.status = {OMNIHOST_CANCELLED, "cancelled before it began"};
    } else {
        spdlog::info("job {}: {} generation started", job->id, job->task);
        const std::string request_json = call.request.dump();
        const auto flight = begin_call("generate", job, [answer, t0](const std::string &reason) {
            GenerateReply abandoned;
            abandoned.status = {OMNIHOST_UNAVAILABLE, reason};
            abandoned.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
            answer->set(std::move(abandoned));
        });
        BackendResult result;
        const BackendStatus status = backend->generate(request_json, hooks, result);
        if (!end_call(flight)) return; // abandoned: the caller was answered; touch nothing
        reply.status = status;
        reply.result = std::move(result);
    }
    reply.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    reply.cancelled = reply.status.code == OMNIHOST_CANCELLED;
    if (reply.status.ok()) spdlog::info("job {}: done in {:.2f} s", job->id, reply.seconds);
    else spdlog::warn("job {}: {}", job->id, reply.cancelled ? "cancelled" : reply.status.message);
    {
        std::lock_guard lock(mutex_);
        if (generation_job_ == job) generation_job_.reset();
    }
    state_cv_.notify_all();
    answer->set(std::move(reply));
}

SlotReply RuntimeSlot::cancel(const std::string &job_id) {
    std::string load_id;
    {
        std::lock_guard lock(mutex_);
        if (generation_job_ && (job_id.empty() || job_id == generation_job_->id)) {
            request_cancel_locked(generation_job_);
            spdlog::info("job {}: cancel requested", generation_job_->id);
            return {200, "", generation_job_->id};
        }
        if (state_ == SlotState::Starting && load_job_ && (job_id.empty() || job_id == load_job_->id))
            load_id = load_job_->id;
    }
    if (!load_id.empty()) {
        SlotReply reply = stop(std::chrono::milliseconds(0));
        if (reply.http_status >= 400) return {404, "no running job '" + job_id + "'"};
        return {200, "", load_id};
    }
    return {404, job_id.empty() ? "no job is running" : "no running job '" + job_id + "'"};
}

SlotSnapshot RuntimeSlot::snapshot() const {
    std::lock_guard lock(mutex_);
    SlotSnapshot snap;
    snap.state = state_;
    snap.error = error_;
    snap.plan = plan_;
    snap.started_at = started_at_;
    snap.health_json = health_json_;
    snap.abandoned = abandoned_;
    if (load_job_ && state_ == SlotState::Starting) {
        std::lock_guard progress_lock(load_job_->progress_mutex);
        snap.load = load_job_->progress;
    }
    if (generation_job_) {
        JobView view;
        view.id = generation_job_->id;
        view.task = generation_job_->task;
        view.started_at = generation_job_->started_at;
        std::lock_guard progress_lock(generation_job_->progress_mutex);
        view.progress = generation_job_->progress;
        snap.job = view;
    }
    return snap;
}

bool RuntimeSlot::wait_for_state(std::initializer_list<SlotState> states,
                                 std::chrono::milliseconds wait) const {
    std::unique_lock lock(mutex_);
    return state_cv_.wait_for(lock, wait, [&] {
        for (SlotState s : states)
            if (state_ == s) return true;
        return false;
    });
}

void RuntimeSlot::health_loop() {
    while (!closing_) {
        {
            std::unique_lock lock(health_wait_mutex_);
            health_wait_cv_.wait_for(lock, health_interval_, [this] { return closing_.load(); });
        }
        if (closing_) return;
        uint64_t epoch = 0;
        {
            std::lock_guard lock(mutex_);
            if (state_ != SlotState::Ready) continue;
            epoch = epoch_;
        }
        std::string answer;
        BackendStatus status;
        {
            std::lock_guard lock(backend_mutex_);
            if (!backend_ || backend_epoch_ != epoch) continue;
            status = backend_->health(answer);
        }
        if (!status.ok()) {
            // A health() error is not a death certificate: log it, keep serving.
            spdlog::warn("plugin health() returned an error: {}", status.message);
            continue;
        }
        nlohmann::json health = nlohmann::json::parse(answer, nullptr, false);
        if (health.is_discarded() || !health.is_object()) {
            spdlog::warn("plugin health() returned invalid JSON");
            continue;
        }
        const bool failed = health.value("failed", false);
        const std::string message = health.value("message", std::string());
        {
            std::lock_guard lock(mutex_);
            if (epoch != epoch_ || state_ != SlotState::Ready) continue;
            health_json_ = answer;
            if (!failed) continue;
            state_ = SlotState::Failed;
            error_ = message.empty() ? "the backend reported a failure" : message;
            request_cancel_locked(generation_job_);
            // Queued under the same lock as the state change, and bound to this instance.
            post_locked([this, epoch] { run_teardown(epoch); });
        }
        spdlog::error("backend failed: {}", message);
        state_cv_.notify_all();
    }
}

void RuntimeSlot::shutdown(std::chrono::milliseconds wait) {
    if (closing_.exchange(true)) return;
    health_wait_cv_.notify_all();
    if (health_thread_.joinable()) health_thread_.join();
    const auto deadline = Clock::now() + wait;
    std::unique_lock lock(mutex_);
    request_cancel_locked(load_job_);
    request_cancel_locked(generation_job_);
    if (state_ == SlotState::Starting || state_ == SlotState::Ready) {
        state_ = SlotState::Stopping;
        post_locked([this] { run_stop(); });
    }
    post_locked([this] { run_teardown(0); }); // an instance left by a health failure
    post_locked([this] {
        {
            std::lock_guard last(mutex_);
            drained_ = true;
        }
        state_cv_.notify_all();
    });
    // The watchdog keeps enforcing the calls' own deadlines meanwhile; past `wait`, whatever call
    // is still running is abandoned here. Between calls the worker runs host code only.
    while (!drained_) {
        if (Clock::now() >= deadline && current_call_) {
            const auto call = current_call_;
            lock.unlock();
            abandon(call, "was still running " + seconds_text(wait) + " after the host began shutting down");
            lock.lock();
            continue;
        }
        state_cv_.wait_until(lock, std::max(deadline, Clock::now() + std::chrono::milliseconds(20)),
                             [this] { return drained_; });
    }
    std::unique_ptr<SerialWorker> worker = std::move(worker_);
    watchdog_stop_ = true;
    const uint32_t abandoned = abandoned_;
    lock.unlock();
    watch_cv_.notify_all();
    if (watchdog_thread_.joinable()) watchdog_thread_.join();
    if (worker) worker->shutdown();
    if (abandoned > 0) spdlog::warn("{} plugin instance(s) were abandoned rather than destroyed", abandoned);
}

} // namespace omnihost
