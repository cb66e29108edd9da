// WanPipeline (diffusers pipeline_wan.py) for text-to-video and WanImageToVideoPipeline
// (pipeline_wan_i2v.py) for image-to-video: Wan2.1 T2V, Wan2.2 TI2V-5B (expand_timesteps), Wan2.2
// T2V-A14B (two experts switched at boundary_ratio, with guidance_scale_2), and with an input image
// Wan2.2 TI2V-5B, Wan2.1 I2V (CLIP image tokens), Wan2.1 FLF2V (first + last image) and Wan2.2
// I2V-A14B (optionally first + last image), loaded from a diffusers-format folder.
//
// Image conditioning, as WanImageToVideoPipeline does it:
//  - preprocessing: the image is resized to exactly height x width with Pillow's Lanczos (8-bit),
//    no aspect-ratio preservation and no crop (VaeImageProcessor.preprocess, resize_mode "default"),
//    then x / 255 * 2 - 1. Callers wanting the input's aspect pick height/width themselves, e.g. with
//    fit_to_area(); the CLIP tokens (Wan2.1 I2V/FLF2V) are made from the ORIGINAL image by the
//    model's image_processor (shortest side to 224 with bicubic, center crop 224).
//  - TI2V-5B (expand_timesteps): the image's normalised latent replaces latent frame 0 before every
//    transformer call and after the loop; that frame's tokens get timestep 0.
//  - Wan2.1 I2V / I2V-A14B: a video of the image then zeros (then the last image, FLF) is VAE-encoded
//    and normalised; a 4-channel frame mask and that latent are concatenated to the noise on
//    channels (transformer in_channels = 2 z_dim + 4); A14B uses it with both experts.
//  - Wan2.1 I2V: CLIP penultimate hidden states of the image (and last image) as image tokens.
//
// One generate() call: clean + tokenise the prompts (or take given embeddings), UMT5 encode with
// the pad rows zeroed, draw the initial noise from PyTorch's CPU generator (bit-identical to
// torch.randn with Generator().manual_seed(seed)), run the scheduler loop with two-pass CFG, then
// de-normalise and VAE-decode (slicing/tiling as configured) into frames in [0, 1].
//
// The header stays light (no <torch/torch.h>) so the plugin's non-model files compile fast.
#pragma once

#include "core/cancelled.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
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

// The job's is_cancelled() said stop (between steps, loaded components or VAE chunks). The one
// cancel exception of the model libraries, so the VAE's decode_cancelled is this same type.
using generation_cancelled = models::operation_cancelled;

enum class log_level { debug, info, warn };

struct pipeline_settings {
    std::string device = "auto";      // "auto" (cuda when available, else cpu), "cpu", "cuda[:N]"
    std::string dtype = "fp32";       // "fp32" or "bf16": transformer + text encoder weights/compute
    std::string vae_dtype = "fp32";   // diffusers recommends the VAE in fp32
    int threads = 0;                  // libtorch intra-op threads; <= 0 = every core
    bool vae_use_slicing = true;      // decode batch items one at a time
    bool vae_use_tiling = true;       // spatial tiles blended as diffusers does
    std::optional<double> flow_shift; // overrides scheduler_config.json's flow_shift / shift
    // diffusers' enable_model_cpu_offload: every component lives on the CPU and only the one
    // running is on the compute device (text_encoder -> image_encoder -> transformer ->
    // transformer_2 -> vae); the idle A14B expert stays on the CPU.
    bool enable_cpu_offload = false;
    // diffusers' enable_sequential_cpu_offload, for small GPUs (implies enable_cpu_offload): the
    // transformers' blocks wait on the CPU and each moves to the compute device only while it runs;
    // their other weights follow the model offload. Much slower (every block crosses the bus twice
    // per call); disables CUDA graphs.
    bool sequential_cpu_offload = false;
    // enforce_eager=false: on CUDA, where the libtorch has graph capture, each request's denoising
    // step (fixed shapes within a request) is captured once per expert and CFG branch and replayed;
    // elsewhere the step runs eagerly. The load log says which.
    bool enforce_eager = true;
};

struct load_callbacks {
    std::function<void(log_level, const std::string &)> log;                     // may be empty
    std::function<void(int step, int total, const std::string &what)> progress;  // may be empty
    std::function<bool()> is_cancelled;                                          // may be empty
    // Every move the CPU offload makes (component, device), also on a CPU-only machine where the
    // moves are no-ops: for tests of the placement order. May be empty.
    std::function<void(const std::string &component, const std::string &device)> on_offload_move;
};

// An input image: tightly packed RGB, 3 bytes per pixel, rows top to bottom.
struct rgb_image {
    int64_t width = 0;
    int64_t height = 0;
    std::vector<uint8_t> rgb;  // width * height * 3 bytes
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
    // Image conditioning (see pipeline_info::image_input / last_image_input for what the model takes).
    std::optional<rgb_image> image;
    std::optional<rgb_image> last_image;
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
    // Image conditioning as computed (fp32 CPU; undefined when not used), for parity checks.
    at::Tensor condition_image;       // [1, 3, H, W] preprocessed image in [-1, 1]
    at::Tensor condition_last_image;  // [1, 3, H, W]
    at::Tensor image_embeds;          // CLIP hidden_states[-2] [n, S, D]
    at::Tensor condition;             // normalised image latent (TI2V) or mask + latent (concat)
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
    // Whether a request must, may or must not give an image / a last image: "required",
    // "accepted", "refused". TI2V: image accepted, last image refused (diffusers would ignore it);
    // Wan2.1 I2V: image required, last image refused; Wan2.1 FLF2V: both required; I2V-A14B: image
    // required, last image accepted; text-to-video: both refused.
    std::string image_input = "refused";
    std::string last_image_input = "refused";
    bool image_encoder = false;   // CLIP image tokens (Wan2.1 I2V / FLF2V)
};

// diffusers' documented way to size an I2V request from the input image: keep its aspect ratio
// within max_area pixels, both sides rounded down to `multiple` (the pipeline's size_multiple):
// height = round(sqrt(max_area * h / w)) // multiple * multiple, width likewise with w / h.
// Returns {height, width}, each at least `multiple`.
std::pair<int64_t, int64_t> fit_to_area(int64_t image_width, int64_t image_height, int64_t max_area, int64_t multiple);

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
