// host_metrics.h — what the host measures about itself for GET /metrics: HTTP requests by route
// template, method and status with latency histograms, per-step generation time (from the slot's
// progress events), model load time (observed from the slot's state changes), generation
// durations, and, read at scrape time, the slot state, the job queue, the log bus and memory.
//
// Label values are always drawn from small fixed sets (route templates, methods, status codes,
// task names, outcomes): never a raw path, a prompt or an id. As a guard against a future caller
// passing something unbounded, each labelled family keeps at most kMaxSeries series; later ones
// are counted under route="other".
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>

#include "metrics/prometheus_text.h"

namespace omnihost {

struct api_context;
class runtime_slot;
namespace jobs {
class job_service;
class job_subscription;
} // namespace jobs

namespace metrics {

class host_metric_set {
public:
    static constexpr size_t kMaxSeries = 512;

    host_metric_set();
    ~host_metric_set();
    host_metric_set(const host_metric_set &) = delete;
    host_metric_set &operator=(const host_metric_set &) = delete;

    // One finished HTTP exchange. `route` is a route template ("/v1/videos/{id}", "static").
    void observe_http(const std::string &route, const std::string &method, int status, double seconds);

    // A progress event of the runtime slot (its progress_sink_fn). Generation jobs' step increments
    // become per-step samples; load jobs ("load-N") are skipped.
    void observe_progress(const std::string &job_id, int32_t step, int32_t total);

    // One generation that ran to an end, with its task ("video", ...) and outcome
    // ("succeeded", "failed", "cancelled").
    void observe_generation(const std::string &task, const std::string &outcome, double seconds);

    void observe_model_load(double seconds);

    // Follows the job service's events: each finished job's run time (by task and final state)
    // and queue wait (by task). The subscription must be destroyed before `service`.
    std::unique_ptr<jobs::job_subscription> attach_jobs(jobs::job_service &service);

    // Starts a thread that records each load's time (from the start request to ready) by waiting
    // on the slot's state changes. Call once; stop_watching() (or the destructor) ends it.
    void watch_slot(const runtime_slot &slot);
    void stop_watching();

    // The whole scrape answer.
    std::string render(const api_context &context) const;

private:
    void watch_loop(const runtime_slot *slot);

    mutable std::mutex mutex_;
    // (route, method, status) -> count; (route, method) -> latency histogram
    std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
    std::map<std::pair<std::string, std::string>, histogram_data> latency_;
    histogram_data step_seconds_;
    histogram_data load_seconds_;
    double last_load_seconds_ = -1;
    std::map<std::pair<std::string, std::string>, histogram_data> generation_seconds_; // (task, outcome)
    std::map<std::pair<std::string, std::string>, histogram_data> job_seconds_;     // (task, state)
    std::map<std::string, histogram_data> job_wait_seconds_;                       // task
    struct step_mark {
        int32_t step;
        std::chrono::steady_clock::time_point at;
    };
    std::map<std::string, step_mark> steps_; // job id -> last step seen (bounded, never exported)

    std::atomic<bool> stop_{false};
    std::thread watcher_;
};

// "GET", "POST", ... for the usual methods; "other" for anything else (a client picks the method).
std::string method_label(const std::string &method);

// Resident and virtual memory of this process from /proc/self/statm; false where unreadable.
bool process_memory(uint64_t &resident_bytes, uint64_t &virtual_bytes);

} // namespace metrics
} // namespace omnihost
