// AutoencoderKLWan, decode side (what text-to-video needs) and, when loaded with_encoder, the encode
// side (image-to-video conditioning): the Wan2.1 VAE and the Wan2.2
// (TI2V-5B, residual, patch size 2) VAE, loaded from a diffusers-format `vae/` folder
// (config.json + diffusion_pytorch_model.safetensors). Include as "wan_vae/wan_vae.h" (models/ is
// the include root, as for core/). Mirrors diffusers' AutoencoderKLWan.decode:
// post_quant_conv, a causal decode one latent frame at a time with the feature cache, optional
// per-sample slicing and spatial tiling, unpatchify (Wan2.2) and clamp to [-1, 1].
//
// Input space: decode() takes the DE-NORMALISED VAE input `z` (what diffusers' vae.decode gets).
// The pipeline's de-normalisation `z = latents / (1 / latents_std) + latents_mean` is a separate
// step, denormalize(); decode_latents() does both, for latents straight from the transformer.
//
// Encode (load_settings.with_encoder): mirrors AutoencoderKLWan.encode: patchify (Wan2.2), a
// causal encode of the first frame alone then chunks of 4 frames with the encoder's feature cache,
// quant_conv, optional slicing and spatial tiling; encode() returns latent_dist.mode() (the mean)
// and normalize() applies WanImageToVideoPipeline's (mean - latents_mean) * (1 / latents_std).
//
// Thread-safety: a loaded vae is immutable; decode() keeps its feature cache on the stack, so
// concurrent decodes are safe (but each one uses all of libtorch's intra-op threads).
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

namespace omnihost::models::wan_vae {

// The AutoencoderKLWan config.json fields the decoder uses. Unknown keys are ignored; missing keys
// take diffusers' defaults (= the Wan2.1 VAE).
struct vae_config {
    int base_dim = 96;
    int decoder_base_dim = 96;  // config null -> base_dim
    int z_dim = 16;
    std::vector<int> dim_mult{1, 2, 4, 4};
    int num_res_blocks = 2;
    std::vector<bool> temperal_downsample{false, true, true};  // (sic, diffusers' spelling)
    bool is_residual = false;  // Wan2.2 VAE: residual up blocks with DupUp3D shortcuts
    int in_channels = 3;
    int out_channels = 3;
    int patch_size = 1;  // config null -> 1 (no unpatchify)
    int scale_factor_temporal = 4;
    int scale_factor_spatial = 8;
    std::vector<double> latents_mean;  // z_dim values
    std::vector<double> latents_std;   // z_dim values

    // Throws omnihost::models::model_error (core/safetensors.h) naming the file and key on a
    // malformed config.
    static vae_config from_file(const std::filesystem::path &config_json);
    static vae_config from_json_text(const std::string &json_text, const std::string &origin);
    static vae_config from_json(const json_config &json);
};

// diffusers' enable_tiling() defaults. Sizes are in output pixels; tiling is used only when the
// latent is larger than min / scale_factor_spatial in height or width (as diffusers decides).
struct tiling_options {
    int tile_sample_min_height = 256;
    int tile_sample_min_width = 256;
    int tile_sample_stride_height = 192;
    int tile_sample_stride_width = 192;
};

struct decode_options {
    bool use_slicing = false;  // decode batch items one at a time (vae.enable_slicing())
    bool use_tiling = false;   // spatial tiles blended as diffusers does (vae.enable_tiling())
    tiling_options tiling;
    // Called after every decoded latent frame: done in 1..total, where total counts every
    // (batch slice x tile x latent frame) chunk of this decode call. Runs on the calling thread.
    std::function<void(int64_t done, int64_t total)> progress;
    // Polled before every chunk; returning true aborts with decode_cancelled.
    std::function<bool()> is_cancelled;
};

// encode() takes the same options: slicing, tiling (sizes in input pixels, as diffusers' encode
// compares them; for Wan2.2 diffusers tiles the patchified input, so a tile covers patch_size times
// more pixels), progress per encoded chunk (slices x tiles x chunks) and cancellation.
using encode_options = decode_options;

using decode_cancelled = models::operation_cancelled;

struct load_settings {
    c10::ScalarType dtype = c10::kFloat;  // kFloat or kBFloat16 (weights and activations)
    c10::Device device = c10::kCPU;
    // Also build and load the encoder (encoder.*, quant_conv.*, strictly: a missing key is an
    // error naming it). Without it those checkpoint keys are ignored and encode() throws.
    bool with_encoder = false;
};

class vae {
public:
    // `component_dir` is the diffusers `vae/` folder. Throws model_error (from
    // models/core/safetensors.h) naming a missing/unexpected key, a shape mismatch, a missing file or
    // a bad config field; checkpoint keys of the encoder side (encoder.*, quant_conv.*) are ignored
    // unless settings.with_encoder.
    static vae load(const std::filesystem::path &component_dir, const load_settings &settings = {});
    // Same, from an already parsed config and an open checkpoint path (file or folder).
    static vae load(const vae_config &config, const std::filesystem::path &weights,
                    const load_settings &settings = {});

    const vae_config &config() const;
    c10::ScalarType dtype() const;
    c10::Device device() const;
    // Moves every weight to `device` (the pipelines' CPU offload); later calls compute there.
    void to(c10::Device device);
    // Human-readable one-liner for the load log (type, dims, dtype, device, parameter count).
    std::string describe() const;

    // latents [B, z_dim, F, H, W] (transformer space, any float dtype) -> z in the VAE dtype/device:
    // latents.to(dtype) / (1 / std) + mean, literally as WanPipeline does.
    at::Tensor denormalize(const at::Tensor &latents) const;

    // z [B, z_dim, F, H, W] de-normalised -> video [B, out, 1 + 4 (F - 1), H * s, W * s] in [-1, 1]
    // (out = 3 after unpatchify, s = scale_factor_spatial), in the VAE dtype, on the VAE device.
    // Throws std::invalid_argument for a bad shape (naming the dimension), decode_cancelled when
    // options.is_cancelled says so.
    at::Tensor decode(const at::Tensor &z, const decode_options &options = {}) const;

    // denormalize() then decode().
    at::Tensor decode_latents(const at::Tensor &latents, const decode_options &options = {}) const;

    bool has_encoder() const;

    // video [B, 3, F, H, W] (any float dtype, values in [-1, 1]) -> the encoder's moments
    // [B, 2 z_dim, 1 + (F - 1) / 4, H / s, W / s] (quant_conv output: mean, then log-variance
    // unclamped), in the VAE dtype on the VAE device. As diffusers, frames past 1 + 4 k are not
    // encoded. H and W must be multiples of patch_size (Wan2.2). Throws std::logic_error when loaded
    // without the encoder, std::invalid_argument for a bad shape (naming the dimension).
    at::Tensor encode_moments(const at::Tensor &video, const encode_options &options = {}) const;
    // latent_dist.mode(): the mean half of encode_moments().
    at::Tensor encode(const at::Tensor &video, const encode_options &options = {}) const;
    // z [B, z_dim, F, H, W] -> (z.to(dtype) - mean) * (1 / std), literally as the image-to-video
    // pipelines do (mean and std as float32 lists moved to `dtype`), on the VAE device.
    at::Tensor normalize(const at::Tensor &z, c10::ScalarType dtype = c10::kFloat) const;
    // Latent frames for a video of `frames` frames: 1 + (F - 1) / scale_factor_temporal.
    int64_t latent_frames(int64_t frames) const;

    // Output frames for a latent of `latent_frames` frames: 1 + scale_factor_temporal * (F - 1).
    int64_t output_frames(int64_t latent_frames) const;

    vae(vae &&) noexcept;
    vae &operator=(vae &&) noexcept;
    ~vae();

private:
    struct impl;
    explicit vae(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace omnihost::models::wan_vae
