// One video_diffusion plugin instance: the loaded WanPipeline (after start), the settings really
// in effect, and the results handed to the host. Methods throw (plugin_error, model errors,
// libtorch errors); plugin_entry.cpp converts everything to status codes at the ABI edge.
#pragma once

#include "omnihost_plugin.h"
#include "settings.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace omnihost::models::wan { class wan_pipeline; }

namespace omnihost::video_diffusion {

class video_instance {
public:
    video_instance(const omnihost_host *host, create_config config);
    ~video_instance();

    void start(const std::string &start_json, const omnihost_job *job);
    omnihost_result *generate(const std::string &request_json, const omnihost_job *job);
    void release(omnihost_result *result);
    void stop();
    const char *health();
    const char *command_preview(const std::string &start_json);

    // last_error() is per calling thread (the ABI says "the calling thread's last call").
    void set_last_error(const std::string &message);
    const char *last_error();

    void log(omnihost_log_level level, const std::string &message) const;

private:
    struct result_holder;
    const omnihost_host *host_;
    create_config config_;

    std::unique_ptr<models::wan::wan_pipeline> pipeline_;
    start_settings settings_;
    std::string model_label_;  // how outputs name the model: hub id or root-relative folder, never a local path

    mutable std::mutex state_mutex_;  // guards the fields below (read by health from any thread)
    std::string state_ = "stopped";   // stopped | loading | ready | failed
    std::string state_message_ = "not started";
    std::string health_json_;
    std::string preview_json_;
    std::map<std::thread::id, std::string> last_errors_;
    std::map<const omnihost_result *, result_holder *> results_;

    void set_state(const std::string &state, const std::string &message);
};

}  // namespace omnihost::video_diffusion
