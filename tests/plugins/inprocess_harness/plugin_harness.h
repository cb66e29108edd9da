// A minimal host for driving a built in-process plugin (stable_audio, video_diffusion) through its
// C ABI in tests: dlopen (local scope, as the host does), a log sink, and jobs with progress
// capture and a cancel switch.
#pragma once

#include "omnihost_plugin.h"

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace inprocess_test {

struct captured_log {
    std::mutex mutex;
    std::vector<std::string> lines;
    bool contains(const std::string &needle);
    std::string all();
};

struct test_job {
    std::atomic<bool> cancel{false};
    std::mutex mutex;
    std::vector<std::string> phases;  // "phase step/total" per progress call
    // Called on every progress report (e.g. to cancel after some step).
    std::function<void(int step, int total, const std::string &phase)> on_progress;
    omnihost_job job{};
    test_job();
    int count(const std::string &phase);
};

struct loaded_plugin {
    void *handle = nullptr;
    const omnihost_plugin_entry *entry = nullptr;
    captured_log log;
    omnihost_host host{};
    explicit loaded_plugin(const std::string &path);
    ~loaded_plugin();
};

}  // namespace inprocess_test
