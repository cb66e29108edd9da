// StableAudioPipeline (diffusers pipeline_stable_audio.py) for text-to-audio (Stable Audio Open),
// loaded from a diffusers-format folder: model_index.json with projection_model, transformer
// (StableAudioDiTModel), vae (AutoencoderOobleck), scheduler (CosineDPMSolverMultistepScheduler)
// and, optionally, text_encoder (T5EncoderModel) + tokenizer.
//
// One generate() call: tokenise + T5-encode the prompts (or take given embeddings and masks),
// multiply the text embeddings by their masks, add the seconds_start / seconds_total number
// conditioning, build the CFG batch [negative, positive] (a negative prompt that is not given is
// diffusers' all-zero unconditional row), draw the initial latents from PyTorch's CPU generator
// (bit-identical to torch.randn with Generator().manual_seed(seed)) times init_noise_sigma, run the
// SDE-DPM-Solver++ loop (DiT timestep atan(sigma)*2/pi, shape [1]), decode the whole latent length
// with the Oobleck VAE and crop to [int(start*sr), int(end*sr)).
//
// Noise: the scheduler's per-step noise is torchsde's Brownian tree seeded with `seed`, reproduced
// bit for bit (models/schedulers/README.md), so a seed gives diffusers' initial latents and noise;
// parity runs may inject recorded noise rows instead (`injected_noise`).
//
// The header stays light (no <torch/torch.h>) so the plugin's non-model files compile fast.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/cancelled.h"

namespace omnihost::models::stable_audio {

// A request the pipeline refuses: `field` names the request field (e.g. "audio_end_in_s",
// "num_inference_steps", "audio_start_in_s", "num_waveforms_per_prompt", "prompt_embeds").
struct request_error : std::invalid_argument {
    request_error(std::string field_name, const std::string &message)
        : std::invalid_argument(message), field(std::move(field_name)) {}
    std::string field;
};

// is_cancelled() said stop (polled before every step and between loaded components); the decode
// was skipped.
using generation_cancelled = models::operation_cancelled;

enum class log_level { debug, info, warn };

struct pipeline_settings {
    std::string device = "auto";     // "auto" (cuda when available, else cpu), "cpu", "cuda[:N]"
    std::string dtype = "fp32";      // "fp32" or "bf16": DiT + T5 weights/compute (VAE, projection
                                     // and scheduler stay fp32)
    int threads = 0;                 // libtorch intra-op threads; <= 0 = every core
    // diffusers' enable_model_cpu_offload: every component lives on the CPU and only the one running
    // is on the compute device (text_encoder -> projection_model -> transformer -> vae).
    bool enable_cpu_offload = false;
    // enforce_eager=false: on CUDA, where the libtorch has graph capture (the 2.x wheel), each
    // request's denoising step (the DiT forward on the CFG batch; its shapes are fixed within a
    // request) is captured in a CUDA graph on the first step and replayed on the others; on the
    // CPU, on libtorch 1.13, or after a capture that failed (a warning), it runs eagerly. The load
    // log says which.
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

struct generate_request {
    std::string prompt;
    // Not given (nullopt): diffusers' default, the unconditional CFG row is all zeros (text and
    // seconds tokens). Given (even ""): it is encoded like the prompt.
    std::optional<std::string> negative_prompt;
    double audio_start_in_s = 0.0;               // >= 0; feeds seconds_start, crop start
    // The END time in seconds (diffusers' meaning: it feeds seconds_total, so with a non-zero start
    // it is not a duration). nullopt: the model's maximum, info().max_audio_length_s.
    // Must satisfy start < end <= max_audio_length_s.
    std::optional<double> audio_end_in_s;
    int64_t num_inference_steps = 100;           // >= 1
    double guidance_scale = 7.0;                 // CFG when > 1
    int64_t num_waveforms_per_prompt = 1;        // >= 1
    uint64_t seed = 0;                           // initial latents and the Brownian-tree noise

    // Parity inputs: when set they replace the text encoder / the generator / the noise sampler.
    std::optional<at::Tensor> prompt_embeds;            // [1, L, text_encoder_dim] fp32
    std::optional<at::Tensor> attention_mask;           // [1, L] int64/bool (all ones when absent)
    std::optional<at::Tensor> negative_prompt_embeds;   // [1, L, text_encoder_dim] fp32
    std::optional<at::Tensor> negative_attention_mask;  // [1, L]
    std::optional<at::Tensor> latents;                  // [B*n, C, sample_size] fp32 (before init_noise_sigma)
    // Row i is the noise the scheduler uses at step i: [num_inference_steps, B*n, C, sample_size].
    std::optional<at::Tensor> injected_noise;
};

// Per-step record for parity checks (CPU, fp32).
struct step_trace {
    int index;
    at::Tensor timestep;            // 0-d float32, atan(sigma)*2/pi
    at::Tensor transformer_output;  // DiT output for the whole CFG batch ([negative, positive])
    at::Tensor latents;             // after the scheduler step
};

struct generate_callbacks {
    std::function<void(int step, int total, const std::string &phase)> progress;  // may be empty
    std::function<bool()> is_cancelled;                                          // may be empty
    std::function<void(const step_trace &)> on_step;                             // may be empty
};

struct generate_output {
    at::Tensor audio;                   // [B*n, audio_channels, samples] float32 CPU, not clamped
    int64_t sampling_rate = 0;          // the VAE's sampling_rate (44100 for Stable Audio Open)
    at::Tensor initial_latents_scaled;  // initial latents * init_noise_sigma, fp32 CPU
    at::Tensor timesteps;               // scheduler timesteps, float32 [N]
    int64_t waveform_start = 0;         // int(audio_start_in_s * sr)
    int64_t waveform_end = 0;           // int(audio_end_in_s * sr)
};

// Facts the plugin validates requests against.
struct pipeline_info {
    std::string model_dir;
    int64_t sampling_rate = 0;        // vae sampling_rate
    int64_t audio_channels = 0;       // vae audio_channels
    int64_t hop_length = 0;           // product of the VAE downsampling ratios
    int64_t sample_size = 0;          // DiT latent length
    int64_t latent_channels = 0;      // DiT in_channels
    double max_audio_length_s = 0.0;  // sample_size * hop_length / sampling_rate
    bool has_text_encoder = false;    // false: only prompt_embeds requests are accepted
    int64_t max_sequence_length = 0;  // tokenizer model_max_length (0 without a tokenizer)
    std::string scheduler;            // "CosineDPMSolverMultistepScheduler"
    std::string device;               // in effect, e.g. "cpu"
    std::string dtype;                // in effect
    int threads = 0;                  // in effect
};

class stable_audio_pipeline {
public:
    // Loads every component of a diffusers StableAudioPipeline folder. Throws
    // omnihost::models::model_error (missing file/key, bad config, unsupported dtype/device),
    // generation_cancelled when load_callbacks.is_cancelled says so between components.
    static std::unique_ptr<stable_audio_pipeline> load(const std::filesystem::path &model_dir,
                                                       const pipeline_settings &settings,
                                                       const load_callbacks &callbacks = {});

    const pipeline_info &info() const;

    // Throws request_error (bad durations/steps/counts/tensor shapes, a text prompt without a text
    // encoder), generation_cancelled, or whatever libtorch throws (c10::Error, std::bad_alloc).
    // Not const: CPU offload moves components between devices. One call at a time.
    generate_output generate(const generate_request &request, const generate_callbacks &callbacks = {});

    ~stable_audio_pipeline();

private:
    struct impl;
    explicit stable_audio_pipeline(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace omnihost::models::stable_audio
