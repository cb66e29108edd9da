// Parsing and validating what crosses the ABI as JSON for the stable_audio plugin: the create
// config, the start JSON (recipe + start request) and audio generate requests. Every problem is a
// plugin_error INVALID_ARGUMENT whose message starts with the offending field. No libtorch here,
// so it is unit-tested without a model.
#pragma once

#include "model_roots.h"
#include "plugin_error.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace omnihost::stable_audio {

using inprocess::allowed_model_roots;
using inprocess::model_outside_roots;
using inprocess::resolved_model;

// model_roots.h's resolution; its refusal of a path outside the roots names
// plugin_config.stable_audio.model_roots.
resolved_model resolve_model(const std::string &model, const std::filesystem::path &data_dir,
                             const std::vector<std::filesystem::path> &extra_roots);

struct create_config {
    std::filesystem::path data_dir;  // relative model paths resolve against it (when set)
    // Extra folders models may live in, set by the operator only: the create config's
    // "model_roots" (plugin_config.stable_audio.model_roots: a list of folders or one colon-separated
    // string) followed by $OMNIHOST_MODEL_ROOTS (colon-separated), as absolute paths.
    std::vector<std::filesystem::path> model_roots;
};
// Reads the create config (operator settings) and $OMNIHOST_MODEL_ROOTS.
create_config parse_create_config(const std::string &json_text);

// Generation defaults a recipe may carry (its "defaults" block), used when a request omits them.
struct generation_defaults {
    std::optional<double> audio_duration;  // absent: 10 s (the playground's), capped at the model's limit
    int64_t num_inference_steps = 50;      // the playground's request default (as the manifest says)
    double guidance_scale = 7.0;
    std::optional<std::string> negative_prompt;  // absent: diffusers' all-zero unconditional row
};

struct start_settings {
    std::string model;   // as given
    std::string recipe;  // the recipe id the host started it from ("" when none)
    std::string device = "auto";
    std::string dtype = "fp32";  // normalised: "fp32" or "bf16"
    int threads = 0;
    bool enable_cpu_offload = false;
    bool enforce_eager = true;  // false: a CUDA graph per request's denoising step where possible (the pipeline's)
    // vLLM's GPU memory fraction, sent by the playground UI and its recipes; only logged here (the
    // in-process pipeline allocates what it uses instead of reserving a fraction up front).
    std::optional<double> gpu_memory_utilization;
    generation_defaults defaults;
};
// Fields are read from the top level and from a "defaults" object (top level wins), so both a
// flat merged start request and a raw recipe work.
start_settings parse_start_settings(const std::string &json_text);

// What the request asked for, checked against the loaded model's facts.
struct model_limits {
    double max_audio_length_s = 0.0;  // sample_size * hop_length / sampling_rate
};

inline constexpr int64_t max_waveforms_per_prompt = 8;
inline constexpr int64_t max_inference_steps = 1000;

struct audio_request {
    std::string prompt;                          // "text" (playground) or "prompt" (diffusers)
    std::optional<std::string> negative_prompt;  // nullopt: the all-zero unconditional row
    double audio_start_in_s = 0.0;
    double audio_duration = 0.0;                 // seconds returned: end = start + duration
    int64_t num_inference_steps = 0;
    double guidance_scale = 0.0;
    int64_t num_waveforms_per_prompt = 1;
    uint64_t seed = 0;
    bool seed_was_random = false;
    std::string output_format = "wav";  // wav | flac | ogg | opus
    std::string peak_mode = "normalize";  // normalize | limit
    double audio_end_in_s() const { return audio_start_in_s + audio_duration; }
};
audio_request parse_audio_request(const std::string &json_text, const generation_defaults &d,
                                  const model_limits &lim);

}  // namespace omnihost::stable_audio
