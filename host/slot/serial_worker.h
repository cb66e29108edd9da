// serial_worker.h — one thread running posted tasks in order. The runtime slot does every
// start/generate/stop on it, so HTTP threads only ever enqueue and wait.
//
// A plugin call may never return (a plugin that ignores cancel). The slot then abandons the worker:
// the thread is detached and keeps only its own queue state alive (shared with it), so destroying
// the serial_worker object never pulls memory from under the stuck thread; the tasks still queued
// are handed back to be run on a fresh worker.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace omnihost {

class serial_worker {
public:
    using work_item = std::function<void()>;

    serial_worker() : state_(std::make_shared<worker_state>()) {
        thread_ = std::thread([state = state_] { run(*state); });
    }
    ~serial_worker() { shutdown(); }
    serial_worker(const serial_worker &) = delete;
    serial_worker &operator=(const serial_worker &) = delete;

    // Returns false (and drops the task) once shutdown or abandon began.
    bool post(work_item task) {
        {
            std::lock_guard lock(state_->mutex);
            if (state_->stopping) return false;
            state_->tasks.push_back(std::move(task));
        }
        state_->cv.notify_one();
        return true;
    }

    // Runs the tasks already queued, then ends the thread. With join=false the thread is detached
    // instead of joined (it keeps its own queue state alive), for a caller that must not hang on a
    // task that ignores cancellation; that task must not reach into the caller afterwards.
    void shutdown(bool join = true) {
        {
            std::lock_guard lock(state_->mutex);
            state_->stopping = true;
        }
        state_->cv.notify_one();
        if (thread_.joinable()) {
            if (join) thread_.join();
            else thread_.detach();
        }
    }

    // Gives up on the task running now: no further task runs here, the thread is detached (it
    // ends by itself if the task ever returns) and the tasks not yet begun are returned.
    std::deque<work_item> abandon() {
        std::deque<work_item> pending;
        {
            std::lock_guard lock(state_->mutex);
            state_->stopping = true;
            pending.swap(state_->tasks);
        }
        state_->cv.notify_one();
        if (thread_.joinable()) thread_.detach();
        return pending;
    }

    // True while a task runs or waits.
    bool busy() {
        std::lock_guard lock(state_->mutex);
        return state_->running || !state_->tasks.empty();
    }

private:
    struct worker_state {
        std::mutex mutex;
        std::condition_variable cv;
        std::deque<work_item> tasks;
        bool stopping = false;
        bool running = false;
    };

    static void run(worker_state &state) {
        for (;;) {
            work_item task;
            {
                std::unique_lock lock(state.mutex);
                state.cv.wait(lock, [&] { return state.stopping || !state.tasks.empty(); });
                if (state.tasks.empty()) return;
                task = std::move(state.tasks.front());
                state.tasks.pop_front();
                state.running = true;
            }
            task();
            task = nullptr; // its captures die here, on this thread, before the next task
            std::lock_guard lock(state.mutex);
            state.running = false;
        }
    }

    std::shared_ptr<worker_state> state_;
    std::thread thread_;
};

} // namespace omnihost
