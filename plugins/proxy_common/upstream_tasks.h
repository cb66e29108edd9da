// One generate() request sent to the upstream vLLM-Omni API, per modality:
//   image  : /v1/chat/completions with a literal "extra_body" (the playground's call); on 404/405
//            /v1/images/generations (text-to-image) or /v1/images/edits (with input_image)
//   video  : /v1/videos/sync, else the async /v1/videos job (polled), else chat with modality video
//   tts    : /v1/audio/speech (raw bytes, MIME from Content-Type)
//   audio  : /v1/audio/generate, else /v1/images/generations with top-level audio params
//   chat   : /v1/chat/completions with stream:true, re-emitted as {"text"} / {"audio"} events
#pragma once

#include "http_client.h"

#include <omnihost_plugin.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace omnihost::proxy {

struct task_timeouts {
    std::chrono::milliseconds image{std::chrono::seconds(300)};
    std::chrono::milliseconds video{std::chrono::seconds(600)};
    std::chrono::milliseconds tts{std::chrono::seconds(300)};
    std::chrono::milliseconds audio{std::chrono::seconds(300)};
    std::chrono::milliseconds chat{std::chrono::seconds(120)};  // the playground's whole-stream limit
    std::chrono::milliseconds video_poll{std::chrono::seconds(1)};
};

// Reads "<task>_timeout_s" and "video_poll_interval_s" from `j` on top of `base`.
task_timeouts read_task_timeouts(const nlohmann::json& j, task_timeouts base);

struct task_hooks {
    std::function<bool()> cancelled;
    std::function<void(int step, int total, const std::string& phase, const std::string& message)> progress;
    std::function<void(const std::string& event_json)> emit;
    std::function<void(omnihost_log_level level, const std::string& message)> log;
};

struct task_result {
    std::string bytes;
    std::string mime;
    nlohmann::json metadata;
};

// Throws proxy_error (status + message) on every failure, CANCELLED when hooks.cancelled() fired.
task_result run_upstream_task(const upstream_client& client, const std::string& model,
                             const nlohmann::json& request, const task_timeouts& timeouts,
                             const task_hooks& hooks);

}  // namespace omnihost::proxy
