// backend.h — what the runtime slot needs from a loaded plugin instance. The production
// implementation wraps the plugin loader's instance (services/plugin_backend.*); tests may fake it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "omnihost_plugin.h"

namespace omnihost {

// Callbacks of one job (a load or a generation), handed to the plugin through omnihost_job.
struct job_hooks {
    std::string job_id;
    std::function<void(int32_t step, int32_t total, const std::string &phase,
                       const std::string &message)> progress;
    std::function<bool()> is_cancelled;
    std::function<void(const std::string &event_json)> emit; // streaming tasks (chat)
};

// A generation's output, copied out of the plugin's result (so the plugin's buffer is released
// at once, on the worker thread).
struct backend_result {
    std::string data;          // bytes
    std::string mime_type;
    std::string metadata_json; // "{}" when the plugin gave nothing
};

// Status + message of a plugin call (message = last_error when not OK).
struct backend_status {
    omnihost_status code = OMNIHOST_OK;
    std::string message;
    bool ok() const { return code == OMNIHOST_OK; }
};

// One plugin instance. The slot calls start/generate/stop from its worker thread only, never two
// at once; health may be called from the health-poll thread at any time.
class slot_backend {
public:
    virtual ~slot_backend() = default;
    virtual backend_status start(const std::string &start_json, const job_hooks &hooks) = 0;
    virtual backend_status health(std::string &out_json) = 0;
    virtual backend_status generate(const std::string &request_json, const job_hooks &hooks,
                                   backend_result &out) = 0;
    virtual backend_status stop() = 0;
};

// Creates an instance of plugin `plugin_id`; called on the slot's worker thread.
// Returns nullptr and sets `error` on failure.
using backend_factory =
    std::function<std::unique_ptr<slot_backend>(const std::string &plugin_id, std::string &error)>;

} // namespace omnihost
