// AutoencoderOobleck (diffusers), decode side: the Stable Audio Open waveform decoder, loaded from
// a diffusers-format `vae/` folder (config.json + diffusion_pytorch_model.safetensors). Include as
// "oobleck/oobleck_vae.h" (models/ is the include root).
//
// The checkpoint stores every convolution with weight norm (weight_g, weight_v); the modules keep
// those names 1:1 (strict loading: a missing, unexpected or mis-shaped decoder key is an error, the
// encoder half is ignored) and fold W = g * v / ||v|| (norm over all dims but 0; for a
// ConvTranspose1d dim 0 is the input channel) once at load, with libtorch's own _weight_norm.
//
// Thread-safety: a loaded vae is read-only; decode() may run concurrently (each call uses all of
// libtorch's intra-op threads).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/cancelled.h"

namespace omnihost::models {
class json_config;  // core/config.h
}

namespace omnihost::models::oobleck {

// The AutoencoderOobleck config.json fields. Unknown keys are ignored; missing keys take diffusers'
// defaults (= Stable Audio Open 1.0).
struct oobleck_config {
    int64_t encoder_hidden_size = 128;
    std::vector<int64_t> downsampling_ratios{2, 4, 4, 8, 8};
    std::vector<int64_t> channel_multiples{1, 2, 4, 8, 16};
    int64_t decoder_channels = 128;
    int64_t decoder_input_channels = 64;
    int64_t audio_channels = 2;
    int64_t sampling_rate = 44100;

    // Samples per latent frame: the product of the downsampling ratios.
    int64_t hop_length() const;

    // Throws model_error naming the file and key on a malformed config.
    static oobleck_config from_file(const std::filesystem::path &config_json);
    static oobleck_config from_json(const json_config &json);
};

struct load_settings {
    c10::ScalarType dtype = c10::kFloat;  // kFloat or kBFloat16 (weights and activations)
    c10::Device device = c10::kCPU;
};

struct decode_options {
    bool use_slicing = false;  // decode batch items one at a time (diffusers' enable_slicing)
    // Called after every decoder block of every slice: done in 1..total. May be empty.
    std::function<void(int64_t done, int64_t total)> progress;
    // Polled before every decoder block; true aborts with decode_cancelled. May be empty.
    std::function<bool()> is_cancelled;
};

using decode_cancelled = models::operation_cancelled;

class vae {
public:
    // `component_dir`: the diffusers `vae/` folder. Throws model_error naming the file/key.
    static vae load(const std::filesystem::path &component_dir, const load_settings &settings = {});
    // Same, from a parsed config and a checkpoint path (file or folder).
    static vae load(const oobleck_config &config, const std::filesystem::path &weights,
                    const load_settings &settings = {});

    const oobleck_config &config() const;
    c10::ScalarType dtype() const;
    c10::Device device() const;
    int64_t parameter_count() const;  // decoder parameters as stored (g and v counted)
    std::string describe() const;     // one line for the load log

    // latents [B, decoder_input_channels, L] (any float dtype/device) -> audio
    // [B, audio_channels, L * hop_length] in the VAE dtype on the VAE device.
    // Throws std::invalid_argument for a bad shape, decode_cancelled.
    at::Tensor decode(const at::Tensor &latents, const decode_options &options = {}) const;

    // Moves the weights (CPU offload).
    void to(c10::Device device);

    vae(vae &&) noexcept;
    vae &operator=(vae &&) noexcept;
    ~vae();

private:
    struct impl;
    explicit vae(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace omnihost::models::oobleck
