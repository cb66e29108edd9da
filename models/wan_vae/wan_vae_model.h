// The Wan VAE module tree (decode side, plus the encoder when asked for) and the state behind omnihost::models::wan_vae::vae.
// Internal to models/wan_vae.
#pragma once

#include "wan_vae.h"
#include "wan_vae_blocks.h"
#include "wan_vae_encoder.h"

namespace omnihost::models::wan_vae::detail {

// WanDecoder3d: conv_in -> mid_block -> up_blocks -> norm_out, SiLU -> conv_out, one chunk at a time.
class decoder3d : public torch::nn::Module {
public:
    decoder3d(const vae_config &cfg, const tensor_options &opts);
    // x: one latent frame [B, z_dim, 1, h, w] (after post_quant_conv).
    at::Tensor forward(const at::Tensor &x, feature_cache &cache, bool first_chunk) const;
    size_t cached_conv_count() const { return cached_convs_; }
    // Frames a later chunk yields per latent frame (2 per temporal upsampler).
    int64_t temporal_factor() const { return temporal_factor_; }

private:
    std::shared_ptr<causal_conv3d> conv_in_, conv_out_;
    std::shared_ptr<mid_block> mid_block_;
    std::vector<std::shared_ptr<up_block>> up_blocks_;
    std::shared_ptr<rms_norm> norm_out_;
    size_t cached_convs_ = 0;
    int64_t temporal_factor_ = 1;
};

// Root module: names below it are the checkpoint keys (post_quant_conv.*, decoder.*, and with
// the encoder also quant_conv.*, encoder.*).
class vae_module : public torch::nn::Module {
public:
    vae_module(const vae_config &cfg, const tensor_options &opts, bool with_encoder = false);

    std::shared_ptr<causal_conv3d> post_quant_conv;
    std::shared_ptr<decoder3d> decoder;
    std::shared_ptr<causal_conv3d> quant_conv;  // null without the encoder
    std::shared_ptr<encoder3d> encoder;         // null without the encoder
};

// Splits the decode work so progress can be counted over slices x tiles x frames.
struct progress_counter {
    const decode_options &options;
    int64_t total = 0;
    int64_t done = 0;

    void before_chunk() const {
        if (options.is_cancelled && options.is_cancelled()) throw decode_cancelled("VAE decode cancelled");
    }
    void after_chunk() {
        ++done;
        if (options.progress) options.progress(done, total);
    }
};

// Decodes one batch slice z [b, z_dim, F, h, w] (already on the model's device/dtype), plain or
// tiled as diffusers' _decode decides. Returns [b, out/p^2, F', h*s, w*s], clamped.
at::Tensor decode_slice(const vae_module &model, const vae_config &cfg, const at::Tensor &z,
                        const decode_options &options, progress_counter &progress);

// Encodes one batch slice x [b, in_channels / p^2, F, H, W] (on the model's device/dtype): patchify,
// then plain or tiled as diffusers' _encode decides. Returns the moments [b, 2 z_dim, F', h, w]
// (quant_conv output, mean then log-variance).
at::Tensor encode_slice(const vae_module &model, const vae_config &cfg, const at::Tensor &x,
                        const decode_options &options, progress_counter &progress);
// Chunks (x tiles) one encode of a slice visits, for progress totals.
int64_t encode_chunk_count(const vae_config &cfg, const decode_options &options, int64_t frames, int64_t height,
                           int64_t width);

// Whether diffusers would tile this latent (W or H above the latent tile minimum).
bool uses_tiling(const vae_config &cfg, const decode_options &options, int64_t height, int64_t width);
// Number of tiles the tiled decode visits for a latent of this size.
int64_t tile_count(const vae_config &cfg, const tiling_options &tiling, int64_t height, int64_t width);

}  // namespace omnihost::models::wan_vae::detail

namespace omnihost::models::wan_vae {

struct vae::impl {
    vae_config config;
    load_settings settings;
    std::shared_ptr<detail::vae_module> model;
    int64_t parameter_count = 0;
};

}  // namespace omnihost::models::wan_vae
