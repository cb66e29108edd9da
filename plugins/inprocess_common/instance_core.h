// The bookkeeping every in-process plugin instance shares, apart from its model: the host's log
// callback, the load state health() reports and the results handed to the host until it releases
// them. Thread-safe: health() and release() are [any-thread] in the ABI.
#pragma once

#include "omnihost_plugin.hpp"

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace omnihost::inprocess {

// The host's job callbacks, either of which may be absent.
inline bool job_cancelled(const omnihost_job *job) { return sdk::job_cancelled(job); }
inline void job_progress(const omnihost_job *job, int step, int total, const char *phase, const std::string &msg) {
    sdk::job_progress(job, step, total, phase, msg);
}

class instance_core {
public:
    // `plugin_id` names the plugin in the host's log.
    instance_core(const omnihost_host *host, std::string plugin_id);
    ~instance_core() = default;  // the result list frees results the host did not release
    instance_core(const instance_core &) = delete;
    instance_core &operator=(const instance_core &) = delete;

    void log(omnihost_log_level level, const std::string &message) const;

    // state: stopped | loading | ready (| failed); health() reports ready only for "ready".
    void set_state(const std::string &state, const std::string &message);
    std::string health() const;  // {"ready","failed":false,"message","state"}, a copy

    // Keeps the bytes until release(); the returned result points into them.
    omnihost_result *add_result(std::vector<uint8_t> bytes, std::string mime, std::string metadata);
    void release(omnihost_result *result) { results_.release(result); }  // unknown: ignored

private:
    const omnihost_host *host_;
    std::string plugin_id_;

    mutable std::mutex mutex_;  // guards the state below
    std::string state_ = "stopped";
    std::string state_message_ = "not started";

    sdk::result_list results_;
};

}  // namespace omnihost::inprocess
