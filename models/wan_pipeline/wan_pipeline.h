// WanPipeline (diffusers pipeline_wan.py) for text-to-video: Wan2.1 T2V, Wan2.2 TI2V-5B
// (expand_timesteps) and Wan2.2 T2V-A14B (two experts switched at boundary_ratio, with
// guidance_scale_2), loaded from a diffusers-format folder.
//
// One generate() call: clean + tokenise the prompts (or take given embeddings), UMT5 encode with
// the pad rows zeroed, draw the initial noise from PyTorch's CPU generator (bit-identical to
// torch.randn with Generator().manual_seed(seed)), run the scheduler loop with two-pass CFG, then
// de-normalise and VAE-decode (slicing/tiling as configured) into frames in [0, 1].
//
// The header stays light (no <torch/torch.h>) so the plugin's non-model files compile fast.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace omnihost::models::wan {

// A request the pipeline refuses (sizes, steps, guidance): `field` names the request field.
struct request_error : std::invalid_argument {
    request_error(std::string field_name, const std::string &message)
        : std::invalid_argument(message), field(std::move(field_name)) {}
    std::string field;
};

// The job's is_cancelled() said stop; the decode was skipped.
struct generation_cancelled : std::runtime_error {
    generation_cancelled() : std::runtime_error("generation cancelled") {}
};

enum class log_level { debug, info, warn };

struct pipeline_settings {
    std::string device = "auto";      // "auto" (cuda when available, else cpu), "cpu", "cuda[:N]"
    std::string dtype = "fp32";       // "fp32" or "bf16": transformer + text encoder weights/compute
    std::string vae_dtype = "fp32";   // diffusers recommends the VAE in fp32
    int threads = 0;                  // libtorch intra-op threads; <= 0 = every core
    bool vae_use_slicing = true;      // decode batch items one at a time
    bool vae_use_tiling = true;       // spatial tiles blended as diffusers does
    std::optional<double> flow_shift; // overrides scheduler_config.json's flow_shift / shift
    bool enable_cpu_offload = false;  // only the active component lives on the compute device
    bool enforce_eager = true;        // libtorch runs eagerly anyway; logged for transparency
};

struct load_callbacks {
    std::function<void(log_level, const std::string &)> log;                     // may be empty
    std::function<void(int step, int total, const std::string &what)> progress;  // may be empty
    std::function<bool()> is_cancelled;                                          // may be empty
};

struct generate_request {
    std::string prompt;
    std::string negative_prompt;  // diffusers default: "" (one </s> token)
    int64_t height = 480;
    int64_t width = 832;
    int64_t num_frames = 81;      // brought to 4k+1 like diffusers (num_frames // 4 * 4 + 1)
    int64_t num_inference_steps = 50;
    double guidance_scale = 5.0;
    std::optional<double> guidance_scale_2;  // A14B only; defaults to guidance_scale
    uint64_t seed = 0;
    int64_t max_sequence_length = 512;
    // Parity inputs: when set they replace the text encoder / the generator noise.
    std::optional<at::Tensor> prompt_embeds;           // [1, L, text_dim]
    std::optional<at::Tensor> negative_prompt_embeds;  // [1, L, text_dim]
    std::optional<at::Tensor> latents;                 // [1, C, F', H', W'] fp32
};

// Per-step record for parity checks (all on CPU, fp32).
struct step_trace {
    int index;
    at::Tensor timestep;          // 0-d, as the scheduler holds it
    at::Tensor noise_pred_cond;
    at::Tensor noise_pred_uncond;  // undefined when CFG is off
    at::Tensor latents;            // after the scheduler step
    bool used_transformer_2;
};

struct generate_callbacks {
    std::function<void(int step, int total, const std::string &phase)> progress;  // may be empty
    std::function<bool()> is_cancelled;                                          // may be empty
    std::function<void(const step_trace &)> on_step;                             // may be empty
};

struct generate_output {
    at::Tensor frames;           // [F, H, W, 3] float32 in [0, 1], CPU (batch item 0)
    at::Tensor initial_latents;  // fp32 CPU
    at::Tensor timesteps;        // scheduler.timesteps (int64 for UniPC, float32 for FlowMatch)
    int64_t num_frames = 0;      // after the 4k+1 rule
};

// Facts the plugin validates requests against.
struct pipeline_info {
    std::string model_dir;
    std::string variant;          // "wan2.1", "wan2.2-ti2v", "wan2.2-a14b"
    int64_t size_multiple = 16;   // height/width must be multiples of this
    int64_t vae_scale_spatial = 8;
    int64_t vae_scale_temporal = 4;
    std::optional<double> boundary_ratio;
    bool expand_timesteps = false;
    std::string scheduler;        // "UniPCMultistepScheduler" / "FlowMatchEulerDiscreteScheduler"
    double flow_shift = 0.0;      // in effect
    std::string device;           // in effect, e.g. "cpu"
    std::string dtype;            // in effect
    int threads = 0;              // in effect
};

class wan_pipeline {
public:
    // Loads every component of a diffusers WanPipeline folder (model_index.json). Throws
    // omnihost::models::model_error (missing file/key, bad config, unsupported dtype/device),
    // generation_cancelled when load_callbacks.is_cancelled says so between components.
    static std::unique_ptr<wan_pipeline> load(const std::filesystem::path &model_dir,
                                              const pipeline_settings &settings,
                                              const load_callbacks &callbacks = {});

    const pipeline_info &info() const;

    // The diffusers rule: num_frames % 4 != 1 -> num_frames // 4 * 4 + 1; at least 1.
    static int64_t normalize_num_frames(int64_t num_frames);

    // Throws request_error (bad sizes/steps/guidance), generation_cancelled, or whatever libtorch
    // throws (c10::Error, std::bad_alloc).
    // Not const: CPU offload moves components between devices. One call at a time.
    generate_output generate(const generate_request &request, const generate_callbacks &callbacks = {});

    ~wan_pipeline();

private:
    struct impl;
    explicit wan_pipeline(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace omnihost::models::wan
