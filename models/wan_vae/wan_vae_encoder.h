// The Wan VAE encoder module tree (WanEncoder3d, Wan2.1 and Wan2.2 types), internal to
// models/wan_vae. Reuses the decoder's residual/mid blocks, norms and causal convs; adds the
// downsampling pieces only the encoder has. Parameter names are diffusers' (encoder.*).
#pragma once

#include "wan_vae.h"
#include "wan_vae_blocks.h"

namespace omnihost::models::wan_vae::detail {

// WanResample in the encoder modes: downsample2d (ZeroPad2d(0,1,0,1) + Conv2d(3, stride 2) per
// frame) and downsample3d (additionally a stride-2 causal time conv; on the first chunk the input is
// only cached, which keeps the lone first frame a lone latent frame).
class downsample : public torch::nn::Module {
public:
    downsample(int64_t dim, bool temporal, const tensor_options &opts);
    at::Tensor forward(const at::Tensor &x, feature_cache &cache) const;
    bool temporal() const { return temporal_; }

private:
    bool temporal_;
    std::shared_ptr<conv2d> conv_;              // "resample.1"
    std::shared_ptr<causal_conv3d> time_conv_;  // downsample3d only: kernel (3,1,1), stride (2,1,1), no padding
};

// AvgDown3D (Wan2.2): parameter-free shortcut, front-pads time to a multiple of factor_t and averages
// channel groups of a (ft, fs, fs) space-to-channel fold.
at::Tensor avg_down_3d(const at::Tensor &x, int64_t in_channels, int64_t out_channels, int64_t factor_t,
                       int64_t factor_s);

// WanResidualDownBlock (Wan2.2): resnets -> optional downsampler, plus the AvgDown3D shortcut.
class residual_down_block : public torch::nn::Module {
public:
    residual_down_block(int64_t in, int64_t out, int num_res_blocks, bool temporal, bool down_flag,
                        const tensor_options &opts);
    at::Tensor forward(const at::Tensor &x, feature_cache &cache) const;
    size_t cached_conv_count() const;

private:
    int64_t in_, out_;
    bool temporal_, down_flag_;
    std::vector<std::shared_ptr<residual_block>> resnets_;
    std::shared_ptr<downsample> downsampler_;
};

// WanEncoder3d: conv_in -> down_blocks -> mid_block -> norm_out, SiLU -> conv_out (2 * z_dim).
// Wan2.1 keeps down_blocks flat (residual blocks and resamples in one list); Wan2.2 has one
// residual_down_block per level.
class encoder3d : public torch::nn::Module {
public:
    encoder3d(const vae_config &cfg, const tensor_options &opts);
    // x: one chunk [B, in_channels, T, H, W] (T = 1 first, then 4), patchified for Wan2.2.
    at::Tensor forward(const at::Tensor &x, feature_cache &cache) const;
    size_t cached_conv_count() const { return cached_convs_; }

private:
    std::shared_ptr<causal_conv3d> conv_in_, conv_out_;
    // Wan2.1: each entry is a residual_block or a downsample; Wan2.2: residual_down_blocks.
    std::vector<std::shared_ptr<torch::nn::Module>> down_blocks_;
    std::shared_ptr<mid_block> mid_block_;
    std::shared_ptr<rms_norm> norm_out_;
    size_t cached_convs_ = 0;
};

}  // namespace omnihost::models::wan_vae::detail
