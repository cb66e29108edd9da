// slot_internals.h — the runtime slot's private parts, shared by its two source files only:
// runtime_slot.cpp (the life cycle: start, stop, generate, health) and slot_calls.cpp (the
// plugin-call protocol, its watchdog, and shutdown).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <string>

#include "slot/runtime_slot.h"

namespace omnihost::slot_detail {

using mono_clock = std::chrono::steady_clock;
constexpr mono_clock::time_point no_deadline = mono_clock::time_point::max();

std::string iso_now();                                    // "2026-12-05T17:00:00.000Z"
std::string seconds_text(std::chrono::milliseconds span); // "0.1 s", "30 s"

} // namespace omnihost::slot_detail

namespace omnihost {

// The plugin instance the health thread is calling health() in, if any. Shared by the slot and
// its health thread: when shutdown gives up on a health() that does not return, it marks the
// slot gone and lets the thread go; the thread, when (if) the call returns, sees the mark here and
// touches nothing of the slot.
struct runtime_slot::health_in_flight {
    std::mutex mutex;
    std::condition_variable left; // `instance` went back to null
    const slot_backend *instance = nullptr;
    bool closing = false;   // no new health() call begins
    bool slot_gone = false; // shutdown stopped waiting: the slot may no longer exist
};

struct runtime_slot::slot_job {
    std::string id;
    std::string task;
    std::string started_at = slot_detail::iso_now();
    std::atomic<bool> cancelled{false};
    std::mutex progress_mutex;
    progress_view progress;
    // Closed when the job's call is abandoned: a plugin that calls back later reaches nothing of
    // the host (the sink may be gone by then).
    std::mutex hook_mutex;
    bool hooks_closed = false;
};

// One plugin call in flight on the worker. It is settled exactly once: by the worker when the call
// returns (end_call) or by abandon() when its deadline passed; `mutex` decides which came first.
struct runtime_slot::slot_call {
    const char *what = "";        // "start", "generate", "stop", "destroy"
    std::shared_ptr<slot_job> job;     // cancelling it arms the cancel deadline; null for stop/destroy
    std::function<void(const std::string &)> on_abandon; // answers a caller waiting on it
    // Guarded by the slot's mutex_:
    slot_detail::mono_clock::time_point deadline = slot_detail::no_deadline;
    std::string why;              // what it will be blamed for when the deadline passes
    // Guarded by `mutex`:
    std::mutex mutex;
    bool settled = false;
    bool abandoned = false;
};

// The answer to one generate_async caller, given exactly once: by the worker when the plugin
// returned, by abandon() when it did not, or on destruction when the task was dropped unrun.
class runtime_slot::pending_answer {
public:
    std::future<generate_reply> future() { return promise_.get_future(); }
    void set(generate_reply reply) {
        std::lock_guard lock(mutex_);
        if (done_) return;
        done_ = true;
        promise_.set_value(std::move(reply));
    }
    ~pending_answer() {
        generate_reply dropped;
        dropped.refusal = {slot_outcome::shutting_down, "the host is shutting down"};
        set(std::move(dropped));
    }

private:
    std::mutex mutex_;
    bool done_ = false;
    std::promise<generate_reply> promise_;
};

} // namespace omnihost
