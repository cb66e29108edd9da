// Parsing and validating what crosses the ABI as JSON: the create config, the start JSON (recipe +
// start request) and generate requests. Every problem is a plugin_error INVALID_ARGUMENT whose
// message starts with the offending field. No libtorch here.
#pragma once

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

// The folders a requested model may resolve into, canonical (symlinks and '..' resolved): data_dir,
// the Hugging Face cache roots, then config.model_roots. Roots that do not exist are kept (a
// later-created folder still counts) in their lexically normal absolute form.
std::vector<std::filesystem::path> allowed_model_roots(const create_config &config);

// resolve_model's refusal of a model outside the allowed roots (INVALID_ARGUMENT naming "model").
struct model_outside_roots : plugin_error {
    using plugin_error::plugin_error;
};

struct resolved_model {
    std::filesystem::path dir;  // canonical, inside one of the allowed roots
    // How outputs name the model, never a local absolute path: the hub id, the path as given when
    // it is a plain relative one, or the folder relative to its root ("org/name" for a folder in
    // the Hugging Face cache).
    std::string label;
};

// Resolves the model: an absolute directory; a path relative to data_dir (then to each extra
// root); or a Hugging Face hub id in the HF cache. The result must lie inside
// allowed_model_roots() after symlinks and '..' are resolved. Throws INVALID_ARGUMENT naming
// "model": for a path outside the roots one fixed message (the same whether or not it exists, so
// requests cannot probe the file system), otherwise a list of the places it looked inside the roots.
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
