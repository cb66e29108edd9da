// Peak device memory as an in-process plugin reports it: in the load log, in its health answer
// ("device_memory", which the host shows in /api/omni/status and the web status line) and in each
// result's metadata. Thread-safe: health() runs on any thread. No libtorch in this header.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <mutex>
#include <string>

namespace omnihost::inprocess {

class memory_report {
public:
    // Before a load / a job on `device` ("cpu", "cuda:0"): starts a new peak window.
    void begin(const std::string &device);
    // After the load: records its peak; returns the load-log line ("peak memory while loading: ...").
    std::string end_load();
    // After a job: records its peak; returns the fields for the result's metadata
    // ({"peak_memory_bytes", "peak_memory_device", "peak_memory_measure"}).
    nlohmann::json end_job();
    // Unloaded: health answers no "device_memory" any more.
    void clear();

    // Runs one job on `device` in its own peak window (the job calls end_job() when it finishes).
    // When it throws, the request's tensors went with the unwound stack: the window closes and the
    // device's freed cached blocks are handed back too, so a failed (e.g. out-of-memory) job leaves
    // the loaded model as it was for the next request.
    template <class Job>
    auto run_job(const std::string &device, Job &&job) {
        begin(device);
        try {
            return job();
        } catch (...) {
            end_job();
            release_device_cache(device);
            throw;
        }
    }

    // {"device", "measure", "load_peak_bytes", "last_job_peak_bytes" (null before the first job),
    //  "current_bytes"}; null while nothing is loaded.
    nlohmann::json health_json() const;
    // Sets health["device_memory"] (health_json()) and, where known, the top-level
    // "device_memory_used_bytes" that the host's /metrics gauge reads.
    void add_to_health(nlohmann::json &health) const;

private:
    static void release_device_cache(const std::string &device);

    mutable std::mutex mutex_;
    std::string device_;  // "" while nothing is loaded
    int64_t load_peak_ = -1;
    int64_t last_job_peak_ = -1;
    bool had_job_ = false;
};

}  // namespace omnihost::inprocess
