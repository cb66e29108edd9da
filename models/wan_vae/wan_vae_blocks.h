// Building blocks of the Wan VAE decoder (internal to models/wan_vae). Each module registers its
// parameters under the exact diffusers names, so a module tree's dotted names equal the
// checkpoint keys. Parameters are created uninitialised (at::empty): they are always overwritten
// by load_module, and random initialisation of ~70 M parameters would only cost load time.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace omnihost::models::wan_vae::detail {

// Per-decode state of diffusers' feat_cache/feat_idx: one slot per cached causal conv, holding the
// last (up to 2) input frames of that conv from the previous chunk. `rep` is the "Rep" marker an
// upsample3d time conv leaves after the first chunk (it skipped the time conv then).
struct feature_cache {
    std::vector<at::Tensor> slots;
    std::vector<bool> rep;
    size_t cursor = 0;

    void reset(size_t n) {
        slots.assign(n, at::Tensor());
        rep.assign(n, false);
        cursor = 0;
    }
    size_t next() { return cursor++; }
};

struct tensor_options {
    c10::ScalarType dtype;
    c10::Device device;
};

// WanCausalConv3d: zero padding of 2*pt frames in front (none behind), symmetric spatial padding.
// With a cache, the cached frames replace that many of the front zero frames.
class causal_conv3d : public torch::nn::Module {
public:
    causal_conv3d(int64_t in, int64_t out, std::array<int64_t, 3> kernel, std::array<int64_t, 3> padding,
                  const tensor_options &opts);
    // Takes x by value so a temporary input (a norm output) is freed once copied into the padded
    // input, before the convolution allocates its output.
    at::Tensor forward(at::Tensor x, const at::Tensor &cache = {}) const;

    at::Tensor weight, bias;

private:
    int64_t time_pad_;                 // 2 * padding[0]
    std::array<int64_t, 3> conv_pad_;  // (0, ph, pw): spatial padding is left to the conv
};

// A causal conv that takes part in the chunked decode: records its input's last two frames in
// the cache slot it owns (diffusers' CACHE_T = 2) and convolves with the previous chunk's frames.
at::Tensor cached_conv(const causal_conv3d &conv, at::Tensor x, feature_cache &cache);

// Plain nn.Conv2d with "same" padding (the resample conv and the 1x1 attention projections).
class conv2d : public torch::nn::Module {
public:
    conv2d(int64_t in, int64_t out, int64_t kernel, int64_t padding, const tensor_options &opts);
    at::Tensor forward(const at::Tensor &x) const;

    at::Tensor weight, bias;

private:
    int64_t padding_;
};

// WanRMS_norm (channel_first, no bias): F.normalize over channels * sqrt(dim) * gamma.
// `images` selects gamma's shape: (dim,1,1) for [N,C,H,W] inputs, (dim,1,1,1) for [B,C,T,H,W].
class rms_norm : public torch::nn::Module {
public:
    rms_norm(int64_t dim, bool images, const tensor_options &opts);
    at::Tensor forward(const at::Tensor &x) const;
    // norm then SiLU, sharing one output buffer (the decoder always follows its norms with SiLU).
    at::Tensor forward_silu(const at::Tensor &x) const;

    at::Tensor gamma;

private:
    double scale_;
};

// WanResidualBlock: conv2(silu(norm2(conv1(silu(norm1(x)))))) + shortcut(x).
class residual_block : public torch::nn::Module {
public:
    residual_block(int64_t in, int64_t out, const tensor_options &opts);
    at::Tensor forward(const at::Tensor &x, feature_cache &cache) const;

private:
    std::shared_ptr<rms_norm> norm1_, norm2_;
    std::shared_ptr<causal_conv3d> conv1_, conv2_, conv_shortcut_;  // shortcut only if in != out
};

// WanAttentionBlock: single-head self-attention over the pixels of each frame.
class attention_block : public torch::nn::Module {
public:
    attention_block(int64_t dim, const tensor_options &opts);
    at::Tensor forward(const at::Tensor &x) const;

private:
    std::shared_ptr<rms_norm> norm_;
    std::shared_ptr<conv2d> to_qkv_, proj_;
};

// WanMidBlock with one attention layer: resnets.0 -> attentions.0 -> resnets.1.
class mid_block : public torch::nn::Module {
public:
    mid_block(int64_t dim, const tensor_options &opts);
    at::Tensor forward(const at::Tensor &x, feature_cache &cache) const;

private:
    std::vector<std::shared_ptr<residual_block>> resnets_;
    std::shared_ptr<attention_block> attention_;
};

// WanResample in the decoder modes: upsample2d (nearest x2 + Conv2d per frame) and upsample3d
// (additionally a causal time conv that doubles the frame count, skipped on the first chunk).
// The per-frame Conv2d runs as a (1,3,3) Conv3d over [B, C, T, H, W] (the same sums), which saves
// the two frame-major copies the reference makes around it.
class resample : public torch::nn::Module {
public:
    resample(int64_t dim, int64_t out_dim, bool temporal, const tensor_options &opts);
    at::Tensor forward(const at::Tensor &x, feature_cache &cache) const;

private:
    bool temporal_;
    std::shared_ptr<conv2d> conv_;             // "resample.1"
    std::shared_ptr<causal_conv3d> time_conv_;  // upsample3d only
};

// DupUp3D (Wan2.2): parameter-free shortcut that repeats channels into a (ft, fs, fs) upsample.
at::Tensor dup_up_3d(const at::Tensor &x, int64_t in_channels, int64_t out_channels, int64_t factor_t,
                     int64_t factor_s, bool first_chunk);

// One decoder up block: WanUpBlock (Wan2.1, "upsamplers.0") or WanResidualUpBlock (Wan2.2,
// "upsampler" plus the DupUp3D shortcut).
class up_block : public torch::nn::Module {
public:
    up_block(int64_t in, int64_t out, int num_res_blocks, bool up_flag, bool temporal, bool residual,
             const tensor_options &opts);
    // By value: the block's input is released after the first resnet (Wan2.1) instead of being
    // held by the caller for the whole block.
    at::Tensor forward(at::Tensor x, feature_cache &cache, bool first_chunk) const;
    int64_t cached_conv_count() const;

private:
    int64_t in_, out_;
    bool up_flag_, temporal_, residual_;
    std::vector<std::shared_ptr<residual_block>> resnets_;
    std::shared_ptr<resample> upsampler_;
};

}  // namespace omnihost::models::wan_vae::detail
