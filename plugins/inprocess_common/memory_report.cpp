#include "memory_report.h"

#include "core/device_memory.h"

namespace omnihost::inprocess {
namespace {

nlohmann::json bytes_or_null(int64_t b) { return b < 0 ? nlohmann::json(nullptr) : nlohmann::json(b); }

}  // namespace

void memory_report::begin(const std::string &device) {
    {
        std::lock_guard lock(mutex_);
        device_ = device;
    }
    models::reset_memory_peak(device);
}

std::string memory_report::end_load() {
    std::lock_guard lock(mutex_);
    const models::memory_reading r = models::read_memory(device_);
    load_peak_ = r.peak_bytes;
    last_job_peak_ = -1;
    had_job_ = false;
    return "peak memory while loading: " + models::format_bytes(r.peak_bytes) + " on " + r.device + " (" + r.measure + ")";
}

nlohmann::json memory_report::end_job() {
    std::lock_guard lock(mutex_);
    const models::memory_reading r = models::read_memory(device_);
    last_job_peak_ = r.peak_bytes;
    had_job_ = true;
    return {{"peak_memory_bytes", bytes_or_null(r.peak_bytes)},
            {"peak_memory_device", r.device},
            {"peak_memory_measure", r.measure}};
}

void memory_report::clear() {
    std::lock_guard lock(mutex_);
    device_.clear();
    load_peak_ = last_job_peak_ = -1;
    had_job_ = false;
}

nlohmann::json memory_report::health_json() const {
    std::lock_guard lock(mutex_);
    if (device_.empty()) return nullptr;
    const models::memory_reading r = models::read_memory(device_);
    return {{"device", r.device},
            {"measure", r.measure},
            {"load_peak_bytes", bytes_or_null(load_peak_)},
            {"last_job_peak_bytes", had_job_ ? bytes_or_null(last_job_peak_) : nlohmann::json(nullptr)},
            {"current_bytes", bytes_or_null(r.current_bytes)}};
}

void memory_report::add_to_health(nlohmann::json &health) const {
    const nlohmann::json m = health_json();
    health["device_memory"] = m;
    if (m.is_object() && m["current_bytes"].is_number()) health["device_memory_used_bytes"] = m["current_bytes"];
}

void memory_report::release_device_cache(const std::string &device) { models::release_cached_memory(device); }

}  // namespace omnihost::inprocess
