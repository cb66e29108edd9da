// Parsing and validating what crosses the ABI as JSON: the create config, the start JSON (recipe +
// start request) and generate requests. Every problem is a plugin_error INVALID_ARGUMENT whose
// message starts with the offending field. No libtorch here.
#pragma once

#include "model_roots.h"
#include "plugin_error.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace omnihost::video_diffusion {

// Limits that keep a request from exhausting the machine; from the create config, overridable by
// start settings.
struct limits {
    int64_t max_pixels = 1280 * 720;  // height * width
    int64_t max_frames = 241;
};

struct create_config {
    std::filesystem::path data_dir;  // relative model paths resolve against it (when set)
    // Extra folders models may live in, set by the operator only: the create config's
    // "model_roots" (plugin_config.video_diffusion.model_roots: a list of folders or one
    // colon-separated string) followed by $OMNIHOST_MODEL_ROOTS (colon-separated), as absolute paths.
    std::vector<std::filesystem::path> model_roots;
    limits lim;
};
// Reads the create config (operator settings) and $OMNIHOST_MODEL_ROOTS.
create_config parse_create_config(const std::string &json_text);

// Generation defaults a recipe may carry (its "defaults" block), used when a request omits them.
struct generation_defaults {
    int64_t height = 480;
    int64_t width = 640;
    double duration = 4.0;
    int64_t fps = 16;
    int64_t num_inference_steps = 30;
    double guidance_scale = 4.0;
    std::optional<double> guidance_scale_2;
    std::string negative_prompt;
};

struct start_settings {
    std::string model;  // as given
    std::string recipe;  // the recipe id the host started it from ("" when none)
    bool vae_use_slicing = true;
    bool vae_use_tiling = true;
    std::optional<double> flow_shift;
    bool enable_cpu_offload = true;
    bool sequential_cpu_offload = false;  // per-block offload for small GPUs (implies offload)
    bool enforce_eager = true;
    std::string device = "auto";
    std::string dtype = "fp32";
    int threads = 0;
    limits lim;
    generation_defaults defaults;
};
// Fields are read from the top level and from a "defaults" object (top level wins), so both a
// flat merged start request and a raw recipe work. `base` supplies the limits from create().
start_settings parse_start_settings(const std::string &json_text, const limits &base);

using inprocess::model_outside_roots;
using inprocess::resolved_model;

// The folders a requested model may resolve into (model_roots.h): data_dir, the Hugging Face
// cache roots, then config.model_roots.
std::vector<std::filesystem::path> allowed_model_roots(const create_config &config);

// model_roots.h's resolution with this plugin's roots; its refusal of a path outside them names
// plugin_config.video_diffusion.model_roots.
resolved_model resolve_model(const std::string &model, const create_config &config);

struct video_request {
    std::string prompt;
    std::string negative_prompt;
    int64_t height = 0, width = 0;
    int64_t fps = 0;
    int64_t num_frames = 0;  // after the 4k+1 rule
    int64_t num_inference_steps = 0;
    double guidance_scale = 0;
    std::optional<double> guidance_scale_2;
    uint64_t seed = 0;
    bool seed_was_random = false;
};
// `size_multiple`: the model's spatial multiple (16 for Wan2.1, 32 for Wan2.2 TI2V).
// `has_second_expert`: guidance_scale_2 is only accepted for two-expert (A14B) models.
video_request parse_video_request(const std::string &json_text, const generation_defaults &d,
                                  const limits &lim, int64_t size_multiple, bool has_second_expert);

// diffusers' rule: n % 4 != 1 -> n // 4 * 4 + 1 (at least 1).
int64_t frames_4k_plus_1(int64_t n);

}  // namespace omnihost::video_diffusion
