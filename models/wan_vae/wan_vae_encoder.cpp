// WanEncoder3d and its downsampling blocks. Op order follows diffusers' autoencoder_kl_wan.py
// (the per-frame Conv2d of the resample runs on the frame-major view, as the reference does).
#include "wan_vae_encoder.h"

#include <ATen/ATen.h>

#include <stdexcept>

namespace omnihost::models::wan_vae::detail {

namespace {

std::shared_ptr<causal_conv3d> conv3x3x3(int64_t in, int64_t out, const tensor_options &opts) {
    return std::make_shared<causal_conv3d>(in, out, std::array<int64_t, 3>{3, 3, 3}, std::array<int64_t, 3>{1, 1, 1},
                                           opts);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
downsample::downsample(int64_t dim, bool temporal, const tensor_options &opts) : temporal_(temporal) {
    // "resample" is nn.Sequential(ZeroPad2d, Conv2d): only index 1 has parameters.
    auto seq = register_module("resample", std::make_shared<torch::nn::Module>());
    conv_ = seq->register_module("1", std::make_shared<conv2d>(dim, dim, 3, 0, opts));
    if (temporal)
        time_conv_ = register_module("time_conv",
                                     std::make_shared<causal_conv3d>(dim, dim, std::array<int64_t, 3>{3, 1, 1},
                                                                     std::array<int64_t, 3>{0, 0, 0}, opts));
}

at::Tensor downsample::forward(const at::Tensor &x, feature_cache &cache) const {
    const int64_t b = x.size(0), c = x.size(1), t = x.size(2), h = x.size(3), w = x.size(4);
    at::Tensor frames = x.permute({0, 2, 1, 3, 4}).reshape({b * t, c, h, w});
    // ZeroPad2d((0, 1, 0, 1)): one zero column on the right and one zero row at the bottom.
    frames = at::constant_pad_nd(frames, {0, 1, 0, 1}, 0.0);
    frames = at::conv2d(frames, conv_->weight, conv_->bias, at::IntArrayRef{2, 2}, at::IntArrayRef{0, 0});
    at::Tensor y = frames.view({b, t, frames.size(1), frames.size(2), frames.size(3)}).permute({0, 2, 1, 3, 4});
    if (!temporal_) return y;

    size_t idx = cache.next();
    if (idx >= cache.slots.size()) throw std::logic_error("wan_vae: encoder feature cache slot out of range");
    at::Tensor &slot = cache.slots[idx];
    if (!slot.defined()) {
        // First chunk: cache the frames, no time conv (one frame stays one frame).
        slot = y.clone();
        return y;
    }
    at::Tensor keep = y.slice(2, y.size(2) - 1).clone();
    at::Tensor input = at::cat({slot.slice(2, slot.size(2) - 1), y}, 2);
    at::Tensor out = at::conv3d(input, time_conv_->weight, time_conv_->bias, at::IntArrayRef{2, 1, 1}, at::IntArrayRef{0, 0, 0});
    slot = std::move(keep);
    return out;
}

// ---------------------------------------------------------------------------------------------
at::Tensor avg_down_3d(const at::Tensor &x_in, int64_t in_channels, int64_t out_channels, int64_t factor_t,
                       int64_t factor_s) {
    const int64_t factor = factor_t * factor_s * factor_s;
    const int64_t group = in_channels * factor / out_channels;
    const int64_t pad_t = (factor_t - x_in.size(2) % factor_t) % factor_t;
    at::Tensor x = pad_t > 0 ? at::constant_pad_nd(x_in, {0, 0, 0, 0, pad_t, 0}, 0.0) : x_in;
    const int64_t b = x.size(0), c = x.size(1), t = x.size(2), h = x.size(3), w = x.size(4);
    x = x.view({b, c, t / factor_t, factor_t, h / factor_s, factor_s, w / factor_s, factor_s})
            .permute({0, 1, 3, 5, 7, 2, 4, 6})
            .contiguous()
            .view({b, out_channels, group, t / factor_t, h / factor_s, w / factor_s});
    return x.mean(2);
}

// ---------------------------------------------------------------------------------------------
residual_down_block::residual_down_block(int64_t in, int64_t out, int num_res_blocks, bool temporal, bool down_flag,
                                         const tensor_options &opts)
    : in_(in), out_(out), temporal_(temporal), down_flag_(down_flag) {
    auto resnets = register_module("resnets", torch::nn::ModuleList());
    int64_t current = in;
    for (int i = 0; i < num_res_blocks; ++i) {
        resnets_.push_back(std::make_shared<residual_block>(current, out, opts));
        resnets->push_back(resnets_.back());
        current = out;
    }
    if (down_flag) downsampler_ = register_module("downsampler", std::make_shared<downsample>(out, temporal, opts));
}

at::Tensor residual_down_block::forward(const at::Tensor &x, feature_cache &cache) const {
    at::Tensor y = x;
    for (const auto &r : resnets_) y = r->forward(y, cache);
    if (downsampler_) y = downsampler_->forward(y, cache);
    return y + avg_down_3d(x, in_, out_, temporal_ ? 2 : 1, down_flag_ ? 2 : 1);
}

size_t residual_down_block::cached_conv_count() const {
    return resnets_.size() * 2 + (downsampler_ && downsampler_->temporal() ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
encoder3d::encoder3d(const vae_config &cfg, const tensor_options &opts) {
    // dims = [dim * u for u in [1] + dim_mult]
    const int64_t dim = cfg.base_dim;
    std::vector<int64_t> dims{dim};
    for (int m : cfg.dim_mult) dims.push_back(dim * m);
    const size_t levels = cfg.dim_mult.size();

    conv_in_ = register_module("conv_in", conv3x3x3(cfg.in_channels, dims[0], opts));
    cached_convs_ = 1;
    auto list = register_module("down_blocks", torch::nn::ModuleList());
    for (size_t i = 0; i < levels; ++i) {
        int64_t in = dims[i];
        const int64_t out = dims[i + 1];
        const bool last = i == levels - 1;
        if (cfg.is_residual) {
            auto block = std::make_shared<residual_down_block>(in, out, cfg.num_res_blocks,
                                                               !last && cfg.temperal_downsample[i], !last, opts);
            list->push_back(block);
            down_blocks_.push_back(block);
            cached_convs_ += block->cached_conv_count();
            continue;
        }
        for (int r = 0; r < cfg.num_res_blocks; ++r) {
            auto block = std::make_shared<residual_block>(in, out, opts);
            list->push_back(block);
            down_blocks_.push_back(block);
            cached_convs_ += 2;
            in = out;
        }
        if (!last) {
            auto block = std::make_shared<downsample>(out, cfg.temperal_downsample[i], opts);
            list->push_back(block);
            down_blocks_.push_back(block);
            if (block->temporal()) cached_convs_ += 1;
        }
    }
    mid_block_ = register_module("mid_block", std::make_shared<mid_block>(dims.back(), opts));
    cached_convs_ += 4;
    norm_out_ = register_module("norm_out", std::make_shared<rms_norm>(dims.back(), false, opts));
    conv_out_ = register_module("conv_out", conv3x3x3(dims.back(), 2 * static_cast<int64_t>(cfg.z_dim), opts));
    cached_convs_ += 1;
}

at::Tensor encoder3d::forward(const at::Tensor &x, feature_cache &cache) const {
    at::Tensor y = cached_conv(*conv_in_, x, cache);
    for (const auto &m : down_blocks_) {
        if (auto r = std::dynamic_pointer_cast<residual_block>(m))
            y = r->forward(y, cache);
        else if (auto d = std::dynamic_pointer_cast<downsample>(m))
            y = d->forward(y, cache);
        else if (auto rd = std::dynamic_pointer_cast<residual_down_block>(m))
            y = rd->forward(y, cache);
        else
            throw std::logic_error("wan_vae: unknown encoder block");
    }
    y = mid_block_->forward(y, cache);
    at::Tensor normed = norm_out_->forward_silu(y);
    y.reset();
    return cached_conv(*conv_out_, std::move(normed), cache);
}

}  // namespace omnihost::models::wan_vae::detail
