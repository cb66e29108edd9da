// The runtime slot's life cycle: start, stop, generate, cancel, health polling. Plugin calls go
// through the protocol in slot_calls.cpp.
#include "slot/runtime_slot.h"

#include <future>

#include <spdlog/spdlog.h>

#include "common/json_limits.h"

#include "slot/slot_internals.h"

namespace omnihost {

const char *slot_state_name(slot_state state) {
    switch (state) {
    case slot_state::Idle: return "idle";
    case slot_state::Starting: return "starting";
    case slot_state::Ready: return "ready";
    case slot_state::Stopping: return "stopping";
    case slot_state::Failed: return "failed";
    }
    return "?";
}

const char *slot_outcome_name(slot_outcome outcome) {
    switch (outcome) {
    case slot_outcome::done: return "done";
    case slot_outcome::accepted: return "accepted";
    case slot_outcome::shutting_down: return "shutting down";
    case slot_outcome::not_ready: return "not ready";
    case slot_outcome::wrong_state: return "wrong state";
    case slot_outcome::wrong_modality: return "wrong modality";
    case slot_outcome::busy: return "busy";
    case slot_outcome::no_such_job: return "no such job";
    }
    return "?";
}

namespace {

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

} // namespace

using slot_detail::mono_clock;

runtime_slot::runtime_slot(backend_factory factory, progress_sink_fn progress_sink,
                         std::chrono::milliseconds health_interval, slot_deadlines deadlines)
    : factory_(std::move(factory)), progress_sink_(std::move(progress_sink)),
      health_interval_(health_interval), deadlines_(deadlines),
      health_call_(std::make_shared<health_in_flight>()), worker_(std::make_unique<serial_worker>()) {
    health_thread_ = std::thread([this] { health_loop(); });
    watchdog_thread_ = std::thread([this] { watchdog_loop(); });
}

runtime_slot::~runtime_slot() { shutdown(std::chrono::seconds(30)); }

slot_reply runtime_slot::start(start_plan plan) {
    std::shared_ptr<slot_job> job;
    uint64_t epoch = 0;
    {
        std::lock_guard lock(mutex_);
        if (closing_) return {slot_outcome::shutting_down, "the host is shutting down"};
        if (state_ == slot_state::Starting || state_ == slot_state::Ready)
            return {slot_outcome::wrong_state, "vLLM-Omni server is already running (" + std::string(slot_state_name(state_)) +
                             ": " + (plan_ ? plan_->model : "") + "); stop it first"};
        if (state_ == slot_state::Stopping)
            return {slot_outcome::wrong_state, "the previous model is still stopping; try again in a moment"};
        job = std::make_shared<slot_job>();
        job->id = "load-" + std::to_string(++job_counter_);
        job->task = "load";
        state_ = slot_state::Starting;
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
    return {slot_outcome::accepted, ""};
}

void runtime_slot::run_load(uint64_t epoch, std::shared_ptr<slot_job> job, start_plan plan) {
    std::string create_error;
    std::unique_ptr<slot_backend> backend;
    backend_status status{OMNIHOST_CANCELLED, "cancelled before the load began"};
    if (!job->cancelled) {
        // Everything the call needs is local: an abandoned call must not reach into the slot.
        const backend_factory factory = factory_;
        const job_hooks hooks = make_hooks(job);
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
        if (epoch != epoch_ || state_ != slot_state::Starting) {
            // stop() arrived during the load: hand the instance to run_stop, which is queued next.
            keep = true;
        } else if (status.ok()) {
            state_ = slot_state::Ready;
            load_job_.reset();
            keep = true;
        } else {
            state_ = slot_state::Failed;
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

bool runtime_slot::install(std::unique_ptr<slot_backend> backend, uint64_t epoch) {
    std::unique_ptr<slot_backend> previous;
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

void runtime_slot::wait_health_left(const slot_backend *instance) {
    // A copy: a worker abandoned while waiting here may outlive the slot.
    const std::shared_ptr<health_in_flight> health_call = health_call_;
    std::unique_lock lock(health_call->mutex);
    health_call->left.wait(lock, [&] { return health_call->instance != instance; });
}

bool runtime_slot::unload(std::unique_ptr<slot_backend> backend) {
    // Out of backend_, so no new health() can begin in it; one still running must return before
    // stop(). Waiting inside the stop call puts a stuck health() under the stop deadline.
    auto call = begin_call("stop", nullptr);
    wait_health_left(backend.get());
    const backend_status status = backend->stop();
    if (!end_call(call)) {
        (void)backend.release();
        return false;
    }
    if (!status.ok()) spdlog::warn("plugin stop reported: {}", status.message);
    call = begin_call("destroy", nullptr);
    backend.reset();
    return end_call(call);
}

slot_reply runtime_slot::stop(std::chrono::milliseconds wait) {
    {
        std::lock_guard lock(mutex_);
        switch (state_) {
        case slot_state::Idle: return {slot_outcome::wrong_state, "vLLM-Omni server is not running"};
        case slot_state::Stopping: return {slot_outcome::wrong_state, "the model is already stopping"};
        case slot_state::Failed:
            // The instance is already gone, abandoned, or its teardown is queued (bound to that
            // instance, so a start right after cannot make it miss); just forget the failure.
            state_ = slot_state::Idle;
            error_.clear();
            plan_.reset();
            state_cv_.notify_all();
            return {slot_outcome::done, ""};
        case slot_state::Starting:
        case slot_state::Ready:
            request_cancel_locked(load_job_);
            request_cancel_locked(generation_job_);
            state_ = slot_state::Stopping;
            post_locked([this] { run_stop(); });
            break;
        }
    }
    state_cv_.notify_all();
    spdlog::info("stopping the model");
    const bool done = wait_for_state({slot_state::Idle, slot_state::Starting, slot_state::Failed}, wait);
    return {done ? slot_outcome::done : slot_outcome::accepted, ""};
}

void runtime_slot::run_stop() {
    std::unique_ptr<slot_backend> backend;
    {
        std::lock_guard lock(backend_mutex_);
        backend = std::move(backend_);
        backend_epoch_ = 0;
    }
    if (backend && !unload(std::move(backend))) return;
    bool stopped = false;
    {
        std::lock_guard lock(mutex_);
        if (state_ == slot_state::Stopping) {
            state_ = slot_state::Idle;
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

void runtime_slot::run_teardown(uint64_t epoch) {
    // Bound to the instance of `epoch` (0 = whatever is installed), not to the slot's current
    // epoch: a stop+start right after a failure must neither skip this nor have it hit the new one.
    std::unique_ptr<slot_backend> backend;
    {
        std::lock_guard lock(backend_mutex_);
        if (!backend_ || (epoch != 0 && backend_epoch_ != epoch)) return;
        backend = std::move(backend_);
        backend_epoch_ = 0;
    }
    unload(std::move(backend));
}

std::string modality_refusal(const start_plan &plan, task_kind task) {
    const std::string wanted = task_model_type(task);
    if (plan.model_type == wanted) return "";
    const std::string who = plan.plugin_kind == "inprocess" ? "In-process model" : "Loaded model";
    return who + " is not " + model_type_article(wanted) + " model (loaded: " + plan.model + ", " +
           plan.model_type + ")";
}

generate_reply runtime_slot::generate(generate_call call) { return generate_async(std::move(call)).get(); }

std::future<generate_reply> runtime_slot::generate_async(generate_call call) {
    auto answer = std::make_shared<pending_answer>();
    auto future = answer->future();
    auto refuse = [&](slot_outcome outcome, std::string message) {
        generate_reply reply;
        reply.refusal = {outcome, std::move(message)};
        answer->set(std::move(reply));
        return std::move(future);
    };
    std::lock_guard lock(mutex_);
    if (closing_) return refuse(slot_outcome::shutting_down, "the host is shutting down");
    if (state_ != slot_state::Ready)
        return refuse(slot_outcome::not_ready, std::string("model is not ready (state: ") + slot_state_name(state_) +
                               (error_.empty() ? "" : ", " + error_) + ")");
    if (plan_) {
        if (auto refusal = modality_refusal(*plan_, call.task); !refusal.empty())
            return refuse(slot_outcome::wrong_modality, refusal);
    }
    if (generation_job_)
        return refuse(slot_outcome::busy, "busy: job " + generation_job_->id + " is running; one generation at a time");
    auto job = std::make_shared<slot_job>();
    job->id = call.job_id.empty() ? "job-" + std::to_string(++job_counter_) : call.job_id;
    job->task = task_name(call.task);
    generation_job_ = job;
    post_locked([this, job, call = std::move(call), answer]() mutable {
        run_generate(job, std::move(call), answer);
    });
    return future;
}

void runtime_slot::run_generate(std::shared_ptr<slot_job> job, generate_call call, std::shared_ptr<pending_answer> answer) {
    generate_reply reply;
    slot_backend *backend = nullptr;
    {
        std::lock_guard lock(backend_mutex_);
        backend = backend_.get();
    }
    const job_hooks hooks = make_hooks(job, call.emit);
    const auto t0 = mono_clock::now();
    if (!backend) {
        reply.status = {OMNIHOST_UNAVAILABLE, "no model is loaded"};
    } else if (job->cancelled) {
        reply.status = {OMNIHOST_CANCELLED, "cancelled before it began"};
    } else {
        spdlog::info("job {}: {} generation started", job->id, job->task);
        const std::string request_json = call.request.dump();
        const auto flight = begin_call("generate", job, [answer, t0](const std::string &reason) {
            generate_reply abandoned;
            abandoned.status = {OMNIHOST_UNAVAILABLE, reason};
            abandoned.seconds = std::chrono::duration<double>(mono_clock::now() - t0).count();
            answer->set(std::move(abandoned));
        });
        backend_result result;
        const backend_status status = backend->generate(request_json, hooks, result);
        if (!end_call(flight)) return; // abandoned: the caller was answered; touch nothing
        reply.status = status;
        reply.result = std::move(result);
    }
    reply.seconds = std::chrono::duration<double>(mono_clock::now() - t0).count();
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

slot_reply runtime_slot::cancel(const std::string &job_id) {
    std::string load_id;
    {
        std::lock_guard lock(mutex_);
        if (generation_job_ && (job_id.empty() || job_id == generation_job_->id)) {
            request_cancel_locked(generation_job_);
            spdlog::info("job {}: cancel requested", generation_job_->id);
            return {slot_outcome::done, "", generation_job_->id};
        }
        if (state_ == slot_state::Starting && load_job_ && (job_id.empty() || job_id == load_job_->id))
            load_id = load_job_->id;
    }
    if (!load_id.empty()) {
        slot_reply reply = stop(std::chrono::milliseconds(0));
        if (reply.refused()) return {slot_outcome::no_such_job, "no running job '" + job_id + "'"};
        return {slot_outcome::done, "", load_id};
    }
    return {slot_outcome::no_such_job, job_id.empty() ? "no job is running" : "no running job '" + job_id + "'"};
}

slot_snapshot runtime_slot::snapshot() const {
    std::lock_guard lock(mutex_);
    slot_snapshot snap;
    snap.state = state_;
    snap.error = error_;
    snap.plan = plan_;
    snap.started_at = started_at_;
    snap.health_json = health_json_;
    snap.abandoned = abandoned_;
    if (load_job_ && state_ == slot_state::Starting) {
        std::lock_guard progress_lock(load_job_->progress_mutex);
        snap.load = load_job_->progress;
    }
    if (generation_job_) {
        job_view view;
        view.id = generation_job_->id;
        view.task = generation_job_->task;
        view.started_at = generation_job_->started_at;
        std::lock_guard progress_lock(generation_job_->progress_mutex);
        view.progress = generation_job_->progress;
        snap.job = view;
    }
    return snap;
}

bool runtime_slot::wait_for_state(std::initializer_list<slot_state> states,
                                 std::chrono::milliseconds wait) const {
    std::unique_lock lock(mutex_);
    return state_cv_.wait_for(lock, wait, [&] {
        for (slot_state s : states)
            if (state_ == s) return true;
        return false;
    });
}

void runtime_slot::health_loop() {
    // A copy: after a health() call shutdown gave up on, this is all the thread may touch.
    const std::shared_ptr<health_in_flight> health_call = health_call_;
    while (!closing_) {
        {
            std::unique_lock lock(health_wait_mutex_);
            health_wait_cv_.wait_for(lock, health_interval_, [this] { return closing_.load(); });
        }
        if (closing_) return;
        uint64_t epoch = 0;
        {
            std::lock_guard lock(mutex_);
            if (state_ != slot_state::Ready) continue;
            epoch = epoch_;
        }
        std::string answer;
        backend_status status;
        slot_backend *instance = nullptr;
        {
            std::lock_guard lock(backend_mutex_);
            if (!backend_ || backend_epoch_ != epoch) continue;
            std::lock_guard in(health_call->mutex);
            if (health_call->closing) return;
            instance = backend_.get();
            health_call->instance = instance;
        }
        status = instance->health(answer);
        {
            std::lock_guard in(health_call->mutex);
            if (health_call->slot_gone) return; // shutdown gave up waiting: `this` may be gone
            health_call->instance = nullptr;
        }
        health_call->left.notify_all();
        if (!status.ok()) {
            // A health() error is not a death certificate: log it, keep serving.
            spdlog::warn("plugin health() returned an error: {}", status.message);
            continue;
        }
        // A plugin's answer is outside text too: bounded like every other JSON the host reads.
        nlohmann::json health = omnihost::parse_json_bounded_or_discarded(answer, {64, 1u << 20});
        if (health.is_discarded() || !health.is_object()) {
            spdlog::warn("plugin health() returned invalid JSON");
            continue;
        }
        const bool failed = health.value("failed", false);
        const std::string message = health.value("message", std::string());
        {
            std::lock_guard lock(mutex_);
            if (epoch != epoch_ || state_ != slot_state::Ready) continue;
            health_json_ = answer;
            if (!failed) continue;
            state_ = slot_state::Failed;
            error_ = message.empty() ? "the backend reported a failure" : message;
            request_cancel_locked(generation_job_);
            // Queued under the same lock as the state change, and bound to this instance.
            post_locked([this, epoch] { run_teardown(epoch); });
        }
        spdlog::error("backend failed: {}", message);
        state_cv_.notify_all();
    }
}

} // namespace omnihost
