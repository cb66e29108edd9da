#include "plugin_harness.h"

#include <dlfcn.h>

#include <stdexcept>

namespace inprocess_test {

bool captured_log::contains(const std::string &needle) {
    std::lock_guard lock(mutex);
    for (const auto &l : lines)
        if (l.find(needle) != std::string::npos) return true;
    return false;
}

std::string captured_log::all() {
    std::lock_guard lock(mutex);
    std::string s;
    for (const auto &l : lines) s += l + "\n";
    return s;
}

test_job::test_job() {
    job.struct_size = sizeof(omnihost_job);
    job.job_id = "test-job";
    job.user_data = this;
    job.progress = [](void *ud, int32_t step, int32_t total, const char *phase, const char *) {
        auto *self = static_cast<test_job *>(ud);
        {
            std::lock_guard lock(self->mutex);
            self->phases.push_back(std::string(phase ? phase : "?") + " " + std::to_string(step) + "/" + std::to_string(total));
        }
        if (self->on_progress) self->on_progress(step, total, phase ? phase : "");
    };
    job.is_cancelled = [](void *ud) -> int32_t { return static_cast<test_job *>(ud)->cancel.load() ? 1 : 0; };
    job.emit = nullptr;
}

int test_job::count(const std::string &phase) {
    std::lock_guard lock(mutex);
    int n = 0;
    for (const auto &p : phases)
        if (p.rfind(phase + " ", 0) == 0) ++n;
    return n;
}

loaded_plugin::loaded_plugin(const std::string &path) {
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) throw std::runtime_error(std::string("dlopen failed: ") + dlerror());
    auto fn = reinterpret_cast<omnihost_plugin_entry_fn>(dlsym(handle, OMNIHOST_PLUGIN_ENTRY_SYMBOL));
    if (!fn) throw std::runtime_error("entry symbol missing");
    entry = fn();
    host.struct_size = sizeof(omnihost_host);
    host.user_data = &log;
    host.log = [](void *ud, omnihost_log_level, const char *source, const char *message) {
        auto *l = static_cast<captured_log *>(ud);
        std::lock_guard lock(l->mutex);
        l->lines.push_back(std::string(source) + ": " + message);
    };
}

loaded_plugin::~loaded_plugin() {
    if (handle) dlclose(handle);
}

}  // namespace inprocess_test
