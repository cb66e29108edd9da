// The plugin-call protocol of the runtime slot: every call into a plugin is bracketed by
// begin_call/end_call; a watchdog abandons a call that outlives its deadline (see runtime_slot.h
// for why abandoning, not destroying); shutdown waits, then abandons what is left.
#include <cstdio>
#include <ctime>
#include <string_view>

#include <spdlog/spdlog.h>

#include "slot/slot_internals.h"

namespace omnihost {

namespace slot_detail {

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

std::string seconds_text(std::chrono::milliseconds span) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g s", static_cast<double>(span.count()) / 1000.0);
    return buffer;
}

} // namespace slot_detail

using slot_detail::mono_clock;
using slot_detail::no_deadline;
using slot_detail::seconds_text;

job_hooks runtime_slot::make_hooks(const std::shared_ptr<slot_job> &job,
                                 std::function<void(const std::string &)> emit) {
    job_hooks hooks;
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

void runtime_slot::post_locked(std::function<void()> task) {
    // Posting under mutex_ keeps the queue in the order the state changed in (a teardown queued by
    // a health failure always runs before the load of a start that came after it).
    if (worker_) worker_->post(std::move(task));
}

void runtime_slot::request_cancel_locked(const std::shared_ptr<slot_job> &job) {
    if (!job) return;
    job->cancelled = true;
    if (current_call_ && current_call_->job == job && current_call_->deadline == no_deadline &&
        deadlines_.cancel.count() > 0) {
        current_call_->deadline = mono_clock::now() + deadlines_.cancel;
        current_call_->why = "ignored its cancel for " + seconds_text(deadlines_.cancel);
        watch_cv_.notify_all();
    }
}

std::shared_ptr<runtime_slot::slot_call> runtime_slot::begin_call(const char *what, std::shared_ptr<slot_job> job,
                                                           std::function<void(const std::string &)> on_abandon) {
    auto call = std::make_shared<slot_call>();
    call->what = what;
    call->job = std::move(job);
    call->on_abandon = std::move(on_abandon);
    std::lock_guard lock(mutex_);
    current_call_ = call;
    if (!call->job && deadlines_.stop.count() > 0) {
        call->deadline = mono_clock::now() + deadlines_.stop;
        call->why = "did not return within " + seconds_text(deadlines_.stop);
    } else if (call->job && call->job->cancelled) {
        request_cancel_locked(call->job);
    }
    watch_cv_.notify_all();
    return call;
}

bool runtime_slot::end_call(const std::shared_ptr<slot_call> &call) {
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

void runtime_slot::abandon(const std::shared_ptr<slot_call> &call, const std::string &why) {
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
        state_ = slot_state::Failed;
        error_ = reason;
        load_job_.reset();
        generation_job_.reset();
        health_json_.clear();
        // The stuck thread keeps the old worker's queue state alive by itself; what was queued
        // behind the call (stop, teardown, shutdown's last task) runs on a fresh worker.
        std::deque<serial_worker::work_item> pending;
        if (worker_) pending = worker_->abandon();
        worker_ = std::make_unique<serial_worker>();
        for (auto &task : pending) worker_->post(std::move(task));
        // Anything installed that is not the stuck call's own instance is healthy: unload it.
        if (!in_installed) worker_->post([this] { run_teardown(0); });
    }
    state_cv_.notify_all();
    watch_cv_.notify_all();
    if (call->on_abandon) call->on_abandon(reason);
}

void runtime_slot::watchdog_loop() {
    std::unique_lock lock(mutex_);
    while (!watchdog_stop_) {
        const std::shared_ptr<slot_call> call = current_call_;
        const mono_clock::time_point deadline = call ? call->deadline : no_deadline;
        if (deadline == no_deadline) {
            watch_cv_.wait(lock);
            continue;
        }
        if (mono_clock::now() < deadline) {
            watch_cv_.wait_until(lock, deadline);
            continue;
        }
        const std::string why = call->why;
        lock.unlock();
        abandon(call, why);
        lock.lock();
    }
}

void runtime_slot::shutdown(std::chrono::milliseconds wait) {
    if (closing_.exchange(true)) return;
    const auto deadline = mono_clock::now() + wait;
    health_wait_cv_.notify_all();
    {
        // A health() that does not return by the deadline is left running; its thread is let go
        // and, marked, touches nothing of the slot when (if) the call returns.
        std::unique_lock in(health_call_->mutex);
        health_call_->closing = true;
        if (!health_call_->left.wait_until(in, deadline, [this] { return health_call_->instance == nullptr; })) {
            health_call_->slot_gone = true;
            in.unlock();
            spdlog::error("plugin health was still running {} after the host began shutting down; left running",
                          seconds_text(wait));
            health_thread_.detach();
        }
    }
    if (health_thread_.joinable()) health_thread_.join();
    std::unique_lock lock(mutex_);
    request_cancel_locked(load_job_);
    request_cancel_locked(generation_job_);
    if (state_ == slot_state::Starting || state_ == slot_state::Ready) {
        state_ = slot_state::Stopping;
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
        if (mono_clock::now() >= deadline && current_call_) {
            const auto call = current_call_;
            lock.unlock();
            abandon(call, "was still running " + seconds_text(wait) + " after the host began shutting down");
            lock.lock();
            continue;
        }
        state_cv_.wait_until(lock, std::max(deadline, mono_clock::now() + std::chrono::milliseconds(20)),
                             [this] { return drained_; });
    }
    std::unique_ptr<serial_worker> worker = std::move(worker_);
    watchdog_stop_ = true;
    const uint32_t abandoned = abandoned_;
    lock.unlock();
    watch_cv_.notify_all();
    if (watchdog_thread_.joinable()) watchdog_thread_.join();
    if (worker) worker->shutdown();
    if (abandoned > 0) spdlog::warn("{} plugin instance(s) were abandoned rather than destroyed", abandoned);
}

} // namespace omnihost
