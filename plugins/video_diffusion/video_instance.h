// One video_diffusion plugin instance: the loaded WanPipeline (after start), the settings really
// in effect, and the results handed to the host. Methods throw (plugin_error, model errors,
// libtorch errors); plugin_entry.cpp converts everything to status codes at the ABI edge.
#pragma once

#include "error_translation.h"
#include "instance_core.h"
#include "memory_report.h"
#include "omnihost_plugin.h"
#include "settings.h"

#include <memory>
#include <mutex>
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
    // The shared health JSON, plus "image_input": {"image", "last_image"} ("required" | "accepted" |
    // "refused") once a model is loaded. [any-thread]
    std::string health() const;
    std::string command_preview(const std::string &start_json) const;

    void log(omnihost_log_level level, const std::string &message) const { core_.log(level, message); }

    // What the ABI edge needs to word a failure of start (`loading`) or generate: the device and,
    // after an out-of-memory, the settings that would help.
    inprocess::error_context error_context(bool loading) const;

private:
    // The shared bookkeeping: log, load state, results (instance_core.h).
    inprocess::instance_core core_;
    create_config config_;

    std::unique_ptr<models::wan::wan_pipeline> pipeline_;
    start_settings settings_;
    std::string device_;  // the device start resolved (or is loading on); "" before
    inprocess::memory_report memory_;
    std::string model_label_;  // how outputs name the model: hub id or root-relative folder, never a local path
    mutable std::mutex health_mutex_;  // guards image_input_ (health() runs on any thread)
    std::string image_input_;          // JSON object text; empty while no model is loaded

    omnihost_result *generate_loaded(const std::string &request_json, const omnihost_job *job);
    void set_state(const std::string &state, const std::string &message) { core_.set_state(state, message); }
};

}  // namespace omnihost::video_diffusion
