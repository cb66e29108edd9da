// Wan VAE decoder building blocks. The op order follows diffusers' autoencoder_kl_wan.py so the
// float32 results agree to ~1e-6; where a copy of the reference is only bookkeeping (clones of
// tensors nobody mutates, pads folded into the conv), it is skipped.
#include "wan_vae_blocks.h"

#include <ATen/ATen.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace omnihost::models::wan_vae::detail {

namespace {

constexpr int64_t cache_frames = 2;  // diffusers' CACHE_T

at::Tensor new_param(torch::nn::Module &m, const std::string &name, at::IntArrayRef shape,
                     const tensor_options &opts) {
    auto t = at::empty(shape, at::TensorOptions().dtype(opts.dtype).device(opts.device));
    return m.register_parameter(name, t, /*requires_grad=*/false);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
causal_conv3d::causal_conv3d(int64_t in, int64_t out, std::array<int64_t, 3> kernel,
                             std::array<int64_t, 3> padding, const tensor_options &opts)
    : time_pad_(2 * padding[0]), conv_pad_{0, padding[1], padding[2]} {
    weight = new_param(*this, "weight", {out, in, kernel[0], kernel[1], kernel[2]}, opts);
    bias = new_param(*this, "bias", {out}, opts);
}

at::Tensor causal_conv3d::forward(at::Tensor x, const at::Tensor &cache) const {
    if (time_pad_ > 0 && !cache.defined() && x.size(2) == 1 && time_pad_ == weight.size(2) - 1) {
        // A lone frame behind zero frames (every first chunk): only the last kernel slice meets a
        // non-zero input, so convolve with it alone. Same sums without the products with zeros,
        // and a third of the padded input and of the unfolded conv buffer.
        return at::conv3d(x, weight.slice(2, time_pad_).contiguous(), bias, {1, 1, 1}, conv_pad_);
    }
    if (time_pad_ > 0) {
        // Causal time padding: the cached frames of the previous chunk, topped up with zero frames.
        std::vector<at::Tensor> parts;
        int64_t zero_frames = time_pad_ - (cache.defined() ? cache.size(2) : 0);
        if (zero_frames > 0)
            parts.push_back(at::zeros({x.size(0), x.size(1), zero_frames, x.size(3), x.size(4)}, x.options()));
        if (cache.defined()) parts.push_back(cache);
        parts.push_back(x);
        at::Tensor input = at::cat(parts, 2);
        parts.clear();
        x = std::move(input);
    }
    // Spatial zero padding is done by the convolution itself rather than by a padded copy.
    return at::conv3d(x, weight, bias, {1, 1, 1}, conv_pad_);
}

at::Tensor cached_conv(const causal_conv3d &conv, at::Tensor x, feature_cache &cache) {
    size_t idx = cache.next();
    if (idx >= cache.slots.size()) throw std::logic_error("wan_vae: feature cache slot out of range");
    at::Tensor &slot = cache.slots[idx];
    const int64_t t = x.size(2);
    // Cloned so the cache holds only these frames, not the whole chunk.
    at::Tensor keep = x.slice(2, std::max<int64_t>(t - cache_frames, 0)).clone();
    if (keep.size(2) < cache_frames && slot.defined())
        keep = at::cat({slot.slice(2, slot.size(2) - 1), keep}, 2);
    at::Tensor y = conv.forward(std::move(x), slot);
    slot = std::move(keep);
    return y;
}

// ---------------------------------------------------------------------------------------------
conv2d::conv2d(int64_t in, int64_t out, int64_t kernel, int64_t padding, const tensor_options &opts)
    : padding_(padding) {
    weight = new_param(*this, "weight", {out, in, kernel, kernel}, opts);
    bias = new_param(*this, "bias", {out}, opts);
}

at::Tensor conv2d::forward(const at::Tensor &x) const {
    return at::conv2d(x, weight, bias, {1, 1}, {padding_, padding_});
}

// ---------------------------------------------------------------------------------------------
rms_norm::rms_norm(int64_t dim, bool images, const tensor_options &opts)
    : scale_(std::sqrt(static_cast<double>(dim))) {
    if (images)
        gamma = new_param(*this, "gamma", {dim, 1, 1}, opts);
    else
        gamma = new_param(*this, "gamma", {dim, 1, 1, 1}, opts);
}

at::Tensor rms_norm::forward(const at::Tensor &x) const {
    // F.normalize(x, dim=1) = x / max(||x||_2, 1e-12), in float32 for half types as diffusers does.
    const bool low_precision = x.scalar_type() == at::kBFloat16 || x.scalar_type() == at::kHalf;
    at::Tensor xf = low_precision ? x.to(at::kFloat) : x;
    at::Tensor denom = at::linalg_vector_norm(xf, 2, at::IntArrayRef{1}, /*keepdim=*/true).clamp_min_(1e-12);
    at::Tensor y = at::div(xf, denom);
    if (low_precision) y = y.to(x.scalar_type());
    // (normalized * scale) * gamma; the reference's "+ 0.0" bias changes no value.
    y.mul_(scale_);
    y.mul_(gamma);
    return y;
}

at::Tensor rms_norm::forward_silu(const at::Tensor &x) const {
    at::Tensor y = forward(x);
    at::silu_(y);
    return y;
}

// ---------------------------------------------------------------------------------------------
residual_block::residual_block(int64_t in, int64_t out, const tensor_options &opts) {
    norm1_ = register_module("norm1", std::make_shared<rms_norm>(in, false, opts));
    conv1_ = register_module("conv1", std::make_shared<causal_conv3d>(in, out, std::array<int64_t, 3>{3, 3, 3},
                                                                      std::array<int64_t, 3>{1, 1, 1}, opts));
    norm2_ = register_module("norm2", std::make_shared<rms_norm>(out, false, opts));
    conv2_ = register_module("conv2", std::make_shared<causal_conv3d>(out, out, std::array<int64_t, 3>{3, 3, 3},
                                                                      std::array<int64_t, 3>{1, 1, 1}, opts));
    if (in != out)
        conv_shortcut_ = register_module(
            "conv_shortcut", std::make_shared<causal_conv3d>(in, out, std::array<int64_t, 3>{1, 1, 1},
                                                             std::array<int64_t, 3>{0, 0, 0}, opts));
}

at::Tensor residual_block::forward(const at::Tensor &x, feature_cache &cache) const {
    at::Tensor shortcut = conv_shortcut_ ? conv_shortcut_->forward(x) : x;  // never cached
    at::Tensor y = cached_conv(*conv1_, norm1_->forward_silu(x), cache);
    at::Tensor normed = norm2_->forward_silu(y);
    y.reset();  // conv1's output is not needed past its norm
    y = cached_conv(*conv2_, std::move(normed), cache);  // dropout is 0 at inference
    y.add_(shortcut);
    return y;
}

// ---------------------------------------------------------------------------------------------
attention_block::attention_block(int64_t dim, const tensor_options &opts) {
    norm_ = register_module("norm", std::make_shared<rms_norm>(dim, true, opts));
    to_qkv_ = register_module("to_qkv", std::make_shared<conv2d>(dim, 3 * dim, 1, 0, opts));
    proj_ = register_module("proj", std::make_shared<conv2d>(dim, dim, 1, 0, opts));
}

at::Tensor attention_block::forward(const at::Tensor &x) const {
    const int64_t b = x.size(0), c = x.size(1), t = x.size(2), h = x.size(3), w = x.size(4);
    at::Tensor frames = x.permute({0, 2, 1, 3, 4}).reshape({b * t, c, h, w});
    at::Tensor qkv = to_qkv_->forward(norm_->forward(frames));
    qkv = qkv.reshape({b * t, 1, 3 * c, h * w}).permute({0, 1, 3, 2}).contiguous();
    auto parts = qkv.chunk(3, -1);
    // The math form of scaled_dot_product_attention the golden data was made with:
    // softmax((q * sqrt(s)) @ (k * sqrt(s))^T) @ v, s = 1/sqrt(head_dim), one head of width C.
    const double root_scale = std::sqrt(1.0 / std::sqrt(static_cast<double>(c)));
    at::Tensor scores = at::matmul(parts[0] * root_scale, parts[1].transpose(-2, -1) * root_scale);
    at::Tensor probs = at::softmax(scores, -1);
    scores.reset();
    at::Tensor out = at::matmul(probs, parts[2]);
    out = out.squeeze(1).permute({0, 2, 1}).reshape({b * t, c, h, w});
    out = proj_->forward(out);
    out = out.view({b, t, c, h, w}).permute({0, 2, 1, 3, 4});
    return out + x;
}

// ---------------------------------------------------------------------------------------------
mid_block::mid_block(int64_t dim, const tensor_options &opts) {
    auto resnets = register_module("resnets", torch::nn::ModuleList());
    auto attentions = register_module("attentions", torch::nn::ModuleList());
    resnets_.push_back(std::make_shared<residual_block>(dim, dim, opts));
    resnets_.push_back(std::make_shared<residual_block>(dim, dim, opts));
    attention_ = std::make_shared<attention_block>(dim, opts);
    for (auto &r : resnets_) resnets->push_back(r);
    attentions->push_back(attention_);
}

at::Tensor mid_block::forward(const at::Tensor &x, feature_cache &cache) const {
    at::Tensor y = resnets_[0]->forward(x, cache);
    y = attention_->forward(y);
    return resnets_[1]->forward(y, cache);
}

// ---------------------------------------------------------------------------------------------
resample::resample(int64_t dim, int64_t out_dim, bool temporal, const tensor_options &opts) : temporal_(temporal) {
    // "resample" is nn.Sequential(WanUpsample, Conv2d): only index 1 has parameters.
    auto seq = register_module("resample", std::make_shared<torch::nn::Module>());
    conv_ = seq->register_module("1", std::make_shared<conv2d>(dim, out_dim, 3, 1, opts));
    if (temporal)
        time_conv_ = register_module("time_conv",
                                     std::make_shared<causal_conv3d>(dim, 2 * dim, std::array<int64_t, 3>{3, 1, 1},
                                                                     std::array<int64_t, 3>{1, 0, 0}, opts));
}

at::Tensor resample::forward(const at::Tensor &x, feature_cache &cache) const {
    const int64_t b = x.size(0), c = x.size(1), h = x.size(3), w = x.size(4);
    int64_t t = x.size(2);
    at::Tensor frames = x;  // [b, c, t, h, w]
    if (temporal_) {
        size_t idx = cache.next();
        if (idx >= cache.slots.size()) throw std::logic_error("wan_vae: feature cache slot out of range");
        at::Tensor &slot = cache.slots[idx];
        if (!slot.defined() && !cache.rep[idx]) {
            // First chunk: diffusers marks the slot "Rep" and leaves the frame count as it is.
            cache.rep[idx] = true;
        } else {
            const bool rep = cache.rep[idx];
            at::Tensor keep = x.slice(2, std::max<int64_t>(t - cache_frames, 0)).clone();
            if (keep.size(2) < cache_frames) {
                at::Tensor before = rep ? at::zeros_like(keep) : slot.slice(2, slot.size(2) - 1);
                keep = at::cat({before, keep}, 2);
            }
            at::Tensor y = rep ? time_conv_->forward(x) : time_conv_->forward(x, slot);
            slot = std::move(keep);
            cache.rep[idx] = false;
            // Output channels [0, c) are the first and [c, 2c) the second frame of each step:
            // [b, 2, c, t, h, w] -> [b, c, t, 2, h, w] -> [b, c, 2t, h, w].
            frames = y.view({b, 2, c, t, h, w}).permute({0, 2, 3, 1, 4, 5}).reshape({b, c, 2 * t, h, w});
            t *= 2;
        }
    }
    // WanUpsample: nearest-exact x2 per frame, computed in float32 (libtorch 1.13 has no bf16 CPU
    // kernel for it; for an exact x2 it is a pure copy, so the round trip changes no value).
    // Frames and channels are independent planes, so [b, c, t, h, w] is upsampled as [b, c*t, h, w].
    const auto dtype = frames.scalar_type();
    at::Tensor planes = frames.contiguous().view({b, c * t, h, w});
    frames.reset();
    if (dtype != at::kFloat) planes = planes.to(at::kFloat);
    at::Tensor up = at::_upsample_nearest_exact2d(planes, c10::nullopt, std::vector<double>{2.0, 2.0});
    planes.reset();
    if (dtype != at::kFloat) up = up.to(dtype);
    up = up.view({b, c, t, 2 * h, 2 * w});
    // The per-frame Conv2d(3x3, padding 1) as a Conv3d with a (1, 3, 3) kernel.
    return at::conv3d(up, conv_->weight.unsqueeze(2), conv_->bias, {1, 1, 1}, {0, 1, 1});
}

// ---------------------------------------------------------------------------------------------
at::Tensor dup_up_3d(const at::Tensor &x, int64_t in_channels, int64_t out_channels, int64_t factor_t,
                     int64_t factor_s, bool first_chunk) {
    const int64_t repeats = out_channels * factor_t * factor_s * factor_s / in_channels;
    const int64_t b = x.size(0), t = x.size(2), h = x.size(3), w = x.size(4);
    at::Tensor y = x.repeat_interleave(repeats, 1)
                       .view({b, out_channels, factor_t, factor_s, factor_s, t, h, w})
                       .permute({0, 1, 5, 2, 6, 3, 7, 4})
                       .contiguous()
                       .view({b, out_channels, t * factor_t, h * factor_s, w * factor_s});
    if (first_chunk) y = y.slice(2, factor_t - 1);
    return y;
}

// ---------------------------------------------------------------------------------------------
up_block::up_block(int64_t in, int64_t out, int num_res_blocks, bool up_flag, bool temporal, bool residual,
                   const tensor_options &opts)
    : in_(in), out_(out), up_flag_(up_flag), temporal_(temporal), residual_(residual) {
    auto resnets = register_module("resnets", torch::nn::ModuleList());
    int64_t current = in;
    for (int i = 0; i < num_res_blocks + 1; ++i) {
        resnets_.push_back(std::make_shared<residual_block>(current, out, opts));
        resnets->push_back(resnets_.back());
        current = out;
    }
    if (!up_flag) return;
    if (residual) {
        // WanResidualUpBlock: "upsampler", keeps the channel count.
        upsampler_ = register_module("upsampler", std::make_shared<resample>(out, out, temporal, opts));
    } else {
        // WanUpBlock: "upsamplers.0", halves the channel count.
        auto list = register_module("upsamplers", torch::nn::ModuleList());
        upsampler_ = std::make_shared<resample>(out, out / 2, temporal, opts);
        list->push_back(upsampler_);
    }
}

at::Tensor up_block::forward(at::Tensor x, feature_cache &cache, bool first_chunk) const {
    const bool needs_input = residual_ && up_flag_;  // the DupUp3D shortcut reads the block input
    at::Tensor y;
    if (needs_input)
        y = x;
    else
        y = std::move(x);
    for (const auto &r : resnets_) y = r->forward(y, cache);
    if (upsampler_) y = upsampler_->forward(y, cache);
    if (needs_input) y.add_(dup_up_3d(x, in_, out_, temporal_ ? 2 : 1, 2, first_chunk));
    return y;
}

int64_t up_block::cached_conv_count() const {
    return static_cast<int64_t>(resnets_.size()) * 2 + (upsampler_ && temporal_ ? 1 : 0);
}

}  // namespace omnihost::models::wan_vae::detail
