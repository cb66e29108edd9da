// One video_diffusion plugin instance: the loaded WanPipeline (after start), the settings really
// in effect, and the results handed to the host. Methods throw (plugin_error, model errors,
// libtorch errors); plugin_entry.cpp converts everything to status codes at the ABI edge.
#pragma once

#include "instance_core.h"
#include "omnihost_plugin.h"
#include "settings.h"

#include <memory>
#include <string>

namespace omnihost::models::wan { class wan_pipeline; }

namespace omnihost::video_diffusion {

class video_instance {
public:
    video_instance(const omnihost_host *host, create_config config);
    ~video_instance();

    void start(const std::string &start_json, const omnihost_job *job);
    omnihost_result *generate(const std::string &request_json, const omnihost_job *job);
    void release(omnihost_result *result) { core_.release(result); }
    void stop();
    std::string health() const { return core_.health(); }
    std::string command_preview(const std::string &start_json) const;

    void log(omnihost_log_level level, const std::string &message) const { core_.log(level, message); }

private:
    // The shared bookkeeping: log, load state, results (instance_core.h).
    inprocess::instance_core core_;
    create_config config_;

    std::unique_ptr<models::wan::wan_pipeline> pipeline_;
    start_settings settings_;
    std::string model_label_;  // how outputs name the model: hub id or root-relative folder, never a local path

    void set_state(const std::string &state, const std::string &message) { core_.set_state(state, message); }
};

}  // namespace omnihost::video_diffusion
