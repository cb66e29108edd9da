// serial_worker.h — one thread running posted tasks in order. The runtime slot does every
// start/generate/stop on it, so HTTP threads only ever enqueue and wait.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace omnihost {

class SerialWorker {
public:
    SerialWorker() : thread_([this] { run(); }) {}
    ~SerialWorker() { shutdown(); }
    SerialWorker(const SerialWorker &) = delete;
    SerialWorker &operator=(const SerialWorker &) = delete;

    // Returns false (and drops the task) once shutdown began.
    bool post(std::function<void()> task) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return false;
            tasks_.push_back(std::move(task));
        }
        cv_.notify_one();
        return true;
    }

    // Runs the tasks already queued, then ends the thread. With join=false the thread is detached
    // instead of joined: used when a plugin call ignores cancellation and shutdown must not hang.
    void shutdown(bool join = true) {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_one();
        if (thread_.joinable()) {
            if (join) thread_.join();
            else thread_.detach();
        }
    }

    // True while a task runs or waits.
    bool busy() {
        std::lock_guard lock(mutex_);
        return running_ || !tasks_.empty();
    }

private:
    void run() {
        for (;;) {
            std::function<void()> task;
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
                if (tasks_.empty()) return;
                task = std::move(tasks_.front());
                tasks_.pop_front();
                running_ = true;
            }
            task();
            std::lock_guard lock(mutex_);
            running_ = false;
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    bool stopping_ = false;
    bool running_ = false;
    std::thread thread_;
};

} // namespace omnihost
