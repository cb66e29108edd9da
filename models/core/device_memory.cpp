#include "core/device_memory.h"

#include "core/torch_compat.h"

#include <c10/core/Device.h>

#if OMNIHOST_HAS_DEVICE_ALLOCATOR_STATS
#include <ATen/DeviceAccelerator.h>
#endif

#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace omnihost::models {
namespace {

// false once a reset of VmHWM was refused (then the CPU peak counts from process start).
std::atomic<bool> cpu_peak_resettable{true};

// A "Name:   N kB" line of /proc/self/status, in bytes; -1 when absent.
int64_t proc_status_bytes(const char *name) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::string key = std::string(name) + ":";
    while (std::getline(in, line)) {
        if (line.rfind(key, 0) != 0) continue;
        std::istringstream fields(line.substr(key.size()));
        int64_t kib = -1;
        fields >> kib;
        return kib < 0 ? -1 : kib * 1024;
    }
    return -1;
}

bool is_cpu(const std::string &device) { return device.empty() || device == "cpu"; }

}  // namespace

void reset_memory_peak(const std::string &device) {
    if (is_cpu(device)) {
        // "5" resets the peak resident set size (Linux >= 4.0).
        std::ofstream out("/proc/self/clear_refs");
        out << "5";
        out.flush();
        if (!out) cpu_peak_resettable = false;
        return;
    }
#if OMNIHOST_HAS_DEVICE_ALLOCATOR_STATS
    const c10::Device d(device);
    if (d.is_cuda()) at::accelerator::resetPeakStats(d.has_index() ? d.index() : 0);
#endif
}

memory_reading read_memory(const std::string &device) {
    memory_reading r;
    r.device = device.empty() ? "cpu" : device;
    if (is_cpu(device)) {
        r.measure = cpu_peak_resettable ? "process peak RSS" : "process peak RSS since start";
        r.peak_bytes = proc_status_bytes("VmHWM");
        r.current_bytes = proc_status_bytes("VmRSS");
        return r;
    }
#if OMNIHOST_HAS_DEVICE_ALLOCATOR_STATS
    const c10::Device d(device);
    if (d.is_cuda()) {
        const auto stats = at::accelerator::getDeviceStats(d.has_index() ? d.index() : 0);
        const auto &bytes = stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)];
        r.measure = "allocator peak";
        r.peak_bytes = bytes.peak;
        r.current_bytes = bytes.current;
        return r;
    }
#endif
    r.measure = "not measured (this libtorch has no device allocator stats)";
    return r;
}

void release_cached_memory(const std::string &device) {
    if (is_cpu(device)) {
        malloc_trim(0);
        return;
    }
#if OMNIHOST_HAS_DEVICE_ALLOCATOR_STATS
    const c10::Device d(device);
    if (d.is_cuda()) at::accelerator::emptyCache();
#endif
}

std::string format_bytes(int64_t bytes) {
    if (bytes < 0) return "unknown";
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
    return buf;
}

}  // namespace omnihost::models
