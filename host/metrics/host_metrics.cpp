#include "metrics/host_metrics.h"

#include <fstream>
#include <unistd.h>

#include "api/api_context.h"
#include "common/json_limits.h"
#include "jobs/job_service.h"
#include "metrics/job_metrics.h"

namespace omnihost::metrics {
namespace {

using mono_clock = std::chrono::steady_clock;

const std::vector<double> kLatencyBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
const std::vector<double> kStepBounds = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
const std::vector<double> kLoadBounds = {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800};
const std::vector<double> kGenerationBounds = {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};

constexpr size_t kMaxTrackedJobs = 64;

const char *const kTasks[] = {"image", "video", "audio", "tts", "chat"};
const char *const kOutcomes[] = {"succeeded", "failed", "cancelled"};
const std::vector<double> kWaitBounds = {0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200};

std::string bounded(const std::string &value, const char *const *allowed, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (value == allowed[i]) return value;
    return "other";
}

// A health answer is a small object; anything larger is ignored.
constexpr json_limits kHealthLimits{json_default_max_depth, 1u << 20};

} // namespace

std::string method_label(const std::string &method) {
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
    return bounded(method, known, std::size(known));
}

bool process_memory(uint64_t &resident_bytes, uint64_t &virtual_bytes) {
    std::ifstream in("/proc/self/statm");
    uint64_t size_pages = 0, resident_pages = 0;
    if (!(in >> size_pages >> resident_pages)) return false;
    const long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return false;
    resident_bytes = resident_pages * static_cast<uint64_t>(page);
    virtual_bytes = size_pages * static_cast<uint64_t>(page);
    return true;
}

host_metric_set::host_metric_set() : step_seconds_(kStepBounds), load_seconds_(kLoadBounds) {}

host_metric_set::~host_metric_set() { stop_watching(); }

void host_metric_set::observe_http(const std::string &route, const std::string &method, int status, double seconds) {
    const std::string m = method_label(method);
    if (status < 100 || status > 599) status = 0;
    std::lock_guard lock(mutex_);
    std::string r = route;
    if (!latency_.count({r, m}) && latency_.size() >= kMaxSeries) r = "other";
    ++requests_[{r, m, status}];
    auto it = latency_.find({r, m});
    if (it == latency_.end()) it = latency_.emplace(std::make_pair(r, m), histogram_data(kLatencyBounds)).first;
    it->second.observe(seconds);
}

void host_metric_set::observe_progress(const std::string &job_id, int32_t step, int32_t total) {
    if (job_id.rfind("load-", 0) == 0) return;
    const auto now = mono_clock::now();
    std::lock_guard lock(mutex_);
    auto it = steps_.find(job_id);
    if (it == steps_.end()) {
        if (steps_.size() >= kMaxTrackedJobs) steps_.erase(steps_.begin());
        steps_.emplace(job_id, step_mark{step, now});
        return;
    }
    if (step > it->second.step) {
        const int32_t advanced = step - it->second.step;
        const double each = std::chrono::duration<double>(now - it->second.at).count() / advanced;
        for (int32_t i = 0; i < advanced; ++i) step_seconds_.observe(each);
        it->second = {step, now};
    }
    if (total > 0 && step >= total) steps_.erase(it);
}

void host_metric_set::observe_generation(const std::string &task, const std::string &outcome, double seconds) {
    std::lock_guard lock(mutex_);
    const auto key = std::make_pair(bounded(task, kTasks, std::size(kTasks)),
                                    bounded(outcome, kOutcomes, std::size(kOutcomes)));
    auto it = generation_seconds_.find(key);
    if (it == generation_seconds_.end()) it = generation_seconds_.emplace(key, histogram_data(kGenerationBounds)).first;
    it->second.observe(seconds);
}

std::unique_ptr<jobs::job_subscription> host_metric_set::attach_jobs(jobs::job_service &service) {
    return service.subscribe([this](const jobs::job_event &event) {
        const jobs::stored_job &job = event.job;
        if (!jobs::is_terminal(job.state) || event.kind != jobs::job_state_name(job.state)) return;
        const std::string task = bounded(job.task, kTasks, std::size(kTasks));
        std::lock_guard lock(mutex_);
        if (job.started_ms > 0 && job.finished_ms >= job.started_ms) {
            const auto key = std::make_pair(task, std::string(jobs::job_state_name(job.state)));
            auto it = job_seconds_.find(key);
            if (it == job_seconds_.end()) it = job_seconds_.emplace(key, histogram_data(kGenerationBounds)).first;
            it->second.observe(static_cast<double>(job.finished_ms - job.started_ms) / 1000.0);
        }
        if (job.created_ms > 0 && job.started_ms >= job.created_ms) {
            auto it = job_wait_seconds_.find(task);
            if (it == job_wait_seconds_.end()) it = job_wait_seconds_.emplace(task, histogram_data(kWaitBounds)).first;
            it->second.observe(static_cast<double>(job.started_ms - job.created_ms) / 1000.0);
        }
    });
}

void host_metric_set::observe_model_load(double seconds) {
    std::lock_guard lock(mutex_);
    load_seconds_.observe(seconds);
    last_load_seconds_ = seconds;
}

void host_metric_set::watch_slot(const runtime_slot &slot) {
    if (watcher_.joinable()) return;
    watcher_ = std::thread([this, &slot] { watch_loop(&slot); });
}

void host_metric_set::stop_watching() {
    stop_ = true;
    if (watcher_.joinable()) watcher_.join();
}

void host_metric_set::watch_loop(const runtime_slot *slot) {
    // Each start sets a new started_at; the first time the slot is seen ready after it, the load
    // took (now - started_at). The waits wake on every state change; their timeout only bounds
    // how long stop_watching() waits.
    auto last_counted = mono_clock::time_point{};
    const auto tick = std::chrono::milliseconds(200);
    while (!stop_) {
        if (!slot->wait_for_state({slot_state::Ready}, tick)) continue;
        const slot_snapshot snap = slot->snapshot();
        if (snap.state == slot_state::Ready && snap.started_at != last_counted) {
            last_counted = snap.started_at;
            observe_model_load(std::chrono::duration<double>(mono_clock::now() - snap.started_at).count());
        }
        while (!stop_ && !slot->wait_for_state({slot_state::Idle, slot_state::Starting, slot_state::Stopping,
                                                slot_state::Failed}, tick)) {
        }
    }
}

std::string host_metric_set::render(const api_context &context) const {
    text_writer w;
    {
        std::lock_guard lock(mutex_);
        w.family("omnihost_http_requests_total", "counter",
                 "HTTP requests answered, by route template, method and status code.");
        for (const auto &[key, count] : requests_)
            w.sample("omnihost_http_requests_total",
                     {{"route", std::get<0>(key)}, {"method", std::get<1>(key)}, {"status", std::to_string(std::get<2>(key))}},
                     static_cast<double>(count));
        w.family("omnihost_http_request_duration_seconds", "histogram",
                 "Time from routing a request to the end of its answer (streams included), by route template and method.");
        for (const auto &[key, hist] : latency_)
            w.histogram("omnihost_http_request_duration_seconds", {{"route", key.first}, {"method", key.second}}, hist);
        w.family("omnihost_generation_step_seconds", "histogram",
                 "Time per generation step (denoising step or chunk), from the plugins' progress events.");
        w.histogram("omnihost_generation_step_seconds", {}, step_seconds_);
        w.family("omnihost_model_load_seconds", "histogram", "Time from a start request to the model being ready.");
        w.histogram("omnihost_model_load_seconds", {}, load_seconds_);
        if (last_load_seconds_ >= 0) {
            w.family("omnihost_model_last_load_seconds", "gauge", "Load time of the most recent successful start.");
            w.sample("omnihost_model_last_load_seconds", {}, last_load_seconds_);
        }
        w.family("omnihost_generation_seconds", "histogram",
                 "Generations served synchronously, by task and outcome (queued jobs: omnihost_job_duration_seconds).");
        for (const auto &[key, hist] : generation_seconds_)
            w.histogram("omnihost_generation_seconds", {{"task", key.first}, {"outcome", key.second}}, hist);
        w.family("omnihost_job_duration_seconds", "histogram",
                 "Run time of finished jobs this host ran (claim to end), by task and final state.");
        for (const auto &[key, hist] : job_seconds_)
            w.histogram("omnihost_job_duration_seconds", {{"task", key.first}, {"state", key.second}}, hist);
        w.family("omnihost_job_queue_wait_seconds", "histogram", "Time jobs this host ran waited in the queue, by task.");
        for (const auto &[task, hist] : job_wait_seconds_)
            w.histogram("omnihost_job_queue_wait_seconds", {{"task", task}}, hist);
    }

    if (context.slot) {
        const slot_snapshot snap = context.slot->snapshot();
        w.family("omnihost_slot_state", "gauge", "The runtime slot's state: 1 for the current one, 0 otherwise.");
        for (slot_state s : {slot_state::Idle, slot_state::Starting, slot_state::Ready, slot_state::Stopping, slot_state::Failed})
            w.sample("omnihost_slot_state", {{"state", slot_state_name(s)}}, snap.state == s ? 1 : 0);
        w.family("omnihost_slot_generation_running", "gauge", "1 while the slot runs a generation.");
        w.sample("omnihost_slot_generation_running", {}, snap.job ? 1 : 0);
        w.family("omnihost_slot_abandoned_calls_total", "counter",
                 "Plugin calls that outlived their deadline and were abandoned (their instance leaked).");
        w.sample("omnihost_slot_abandoned_calls_total", {}, snap.abandoned);
        // Device memory is known only where the plugin's health answer reports it.
        const auto health = parse_json_bounded_or_discarded(snap.health_json, kHealthLimits);
        if (health.is_object()) {
            for (const char *key : {"device_memory_used_bytes", "device_memory_total_bytes"}) {
                if (!health.contains(key) || !health[key].is_number()) continue;
                const std::string name = std::string("omnihost_") + key;
                w.family(name, "gauge", std::string("Device memory as the serving plugin reports it (") + key + ").");
                w.sample(name, {}, health[key].get<double>());
            }
        }
    }

    write_job_metrics(w, context);

    if (context.bus) {
        const auto stats = context.bus->stats();
        w.family("omnihost_log_bus_published_frames_total", "counter", "Frames published on the log bus.");
        w.sample("omnihost_log_bus_published_frames_total", {}, static_cast<double>(stats.published));
        w.family("omnihost_log_bus_dropped_frames_total", "counter",
                 "Frames lost by slow log subscribers (summed over subscribers).");
        w.sample("omnihost_log_bus_dropped_frames_total", {}, static_cast<double>(stats.dropped_total));
        w.family("omnihost_log_bus_subscribers", "gauge", "Live log bus subscribers (WebSocket viewers).");
        w.sample("omnihost_log_bus_subscribers", {}, static_cast<double>(stats.subscribers));
    }

    uint64_t resident = 0, virtual_size = 0;
    if (process_memory(resident, virtual_size)) {
        w.family("process_resident_memory_bytes", "gauge", "Resident memory of the omnihost process.");
        w.sample("process_resident_memory_bytes", {}, static_cast<double>(resident));
        w.family("process_virtual_memory_bytes", "gauge", "Virtual memory of the omnihost process.");
        w.sample("process_virtual_memory_bytes", {}, static_cast<double>(virtual_size));
    }
    return w.text();
}

} // namespace omnihost::metrics
