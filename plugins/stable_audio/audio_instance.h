// One stable_audio plugin instance: the loaded StableAudioPipeline (after start), the settings
// really in effect, and the results handed to the host. Methods throw (plugin_error, model errors,
// libtorch errors, media errors); plugin_entry.cpp converts everything to status codes at the ABI
// edge.
#pragma once

#include "error_translation.h"
#include "instance_core.h"
#include "memory_report.h"
#include "omnihost_plugin.h"
#include "settings.h"

#include <memory>
#include <string>

namespace omnihost::models::stable_audio { class stable_audio_pipeline; }

namespace omnihost::stable_audio {

class audio_instance {
public:
    audio_instance(const omnihost_host *host, create_config config);
    ~audio_instance();

    void start(const std::string &start_json, const omnihost_job *job);
    omnihost_result *generate(const std::string &request_json, const omnihost_job *job);
    void release(omnihost_result *result) { core_.release(result); }
    void stop();
    // The shared health JSON plus "device_memory" (peak device memory) once a model is loaded.
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

    std::unique_ptr<models::stable_audio::stable_audio_pipeline> pipeline_;
    start_settings settings_;
    std::string device_;  // the device start resolved (or is loading on); "" before
    inprocess::memory_report memory_;
    std::string model_label_;  // the "model" string as the user gave it (metadata: never a local path)

    omnihost_result *generate_loaded(const std::string &request_json, const omnihost_job *job);
    void set_state(const std::string &state, const std::string &message) { core_.set_state(state, message); }
};

}  // namespace omnihost::stable_audio
