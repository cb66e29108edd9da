// The bookkeeping every in-process plugin instance shares, apart from its model: the host's log
// callback, the load state health() reports, per-thread last_error() and the results handed to
// the host until it releases them. Thread-safe (health and last_error come from any thread).
#pragma once

#include "omnihost_plugin.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace omnihost::inprocess {

// The host's job callbacks, either of which may be absent.
inline bool job_cancelled(const omnihost_job *job) {
    return job && job->is_cancelled && job->is_cancelled(job->user_data) != 0;
}
inline void job_progress(const omnihost_job *job, int step, int total, const char *phase, const std::string &msg) {
    if (job && job->progress) job->progress(job->user_data, step, total, phase, msg.empty() ? nullptr : msg.c_str());
}

class instance_core {
public:
    // `plugin_id` names the plugin in the host's log.
    instance_core(const omnihost_host *host, std::string plugin_id);
    ~instance_core();  // frees results the host did not release
    instance_core(const instance_core &) = delete;
    instance_core &operator=(const instance_core &) = delete;

    void log(omnihost_log_level level, const std::string &message) const;

    // state: stopped | loading | ready (| failed); health() reports ready only for "ready".
    void set_state(const std::string &state, const std::string &message);
    const char *health();  // {"ready","failed":false,"message","state"}; valid until the next call

    // last_error() is per calling thread (the ABI says "the calling thread's last call").
    void set_last_error(const std::string &message);
    const char *last_error();

    // Keeps the bytes until release(); the returned result points into them.
    omnihost_result *add_result(std::vector<uint8_t> bytes, std::string mime, std::string metadata);
    void release(omnihost_result *result);  // unknown or already released: ignored

    // Keeps a command-preview JSON text; valid until the next call.
    const char *keep_preview(std::string json_text);

private:
    struct result_holder;
    const omnihost_host *host_;
    std::string plugin_id_;

    mutable std::mutex mutex_;  // guards the fields below
    std::string state_ = "stopped";
    std::string state_message_ = "not started";
    std::string health_json_;
    std::string preview_json_;
    std::map<std::thread::id, std::string> last_errors_;
    std::map<const omnihost_result *, result_holder *> results_;
};

}  // namespace omnihost::inprocess
