// WanDecoder3d topology and the root module (post_quant_conv + decoder).
#include "wan_vae_model.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace omnihost::models::wan_vae::detail {

namespace {

std::shared_ptr<causal_conv3d> conv3x3x3(int64_t in, int64_t out, const tensor_options &opts) {
    return std::make_shared<causal_conv3d>(in, out, std::array<int64_t, 3>{3, 3, 3}, std::array<int64_t, 3>{1, 1, 1},
                                           opts);
}

}  // namespace

decoder3d::decoder3d(const vae_config &cfg, const tensor_options &opts) {
    // dims = [dim * m for m in [dim_mult[-1]] + dim_mult[::-1]]
    const int64_t dim = cfg.decoder_base_dim;
    std::vector<int64_t> dims{dim * cfg.dim_mult.back()};
    for (auto it = cfg.dim_mult.rbegin(); it != cfg.dim_mult.rend(); ++it) dims.push_back(dim * *it);
    std::vector<bool> temperal_upsample(cfg.temperal_downsample.rbegin(), cfg.temperal_downsample.rend());

    conv_in_ = register_module("conv_in", conv3x3x3(cfg.z_dim, dims[0], opts));
    mid_block_ = register_module("mid_block", std::make_shared<mid_block>(dims[0], opts));
    cached_convs_ = 1 + 4;

    auto list = register_module("up_blocks", torch::nn::ModuleList());
    const size_t levels = cfg.dim_mult.size();
    for (size_t i = 0; i < levels; ++i) {
        int64_t in = dims[i];
        const int64_t out = dims[i + 1];
        // Wan2.1: the previous upsampler halved the channels.
        if (i > 0 && !cfg.is_residual) in /= 2;
        const bool up_flag = i != levels - 1;
        const bool temporal = up_flag && temperal_upsample[i];
        auto block = std::make_shared<up_block>(in, out, cfg.num_res_blocks, up_flag, temporal, cfg.is_residual, opts);
        list->push_back(block);
        up_blocks_.push_back(block);
        cached_convs_ += static_cast<size_t>(block->cached_conv_count());
        if (temporal) temporal_factor_ *= 2;
    }
    norm_out_ = register_module("norm_out", std::make_shared<rms_norm>(dims.back(), false, opts));
    conv_out_ = register_module("conv_out", conv3x3x3(dims.back(), cfg.out_channels, opts));
    cached_convs_ += 1;
}

at::Tensor decoder3d::forward(const at::Tensor &x, feature_cache &cache, bool first_chunk) const {
    at::Tensor y = cached_conv(*conv_in_, x, cache);
    y = mid_block_->forward(y, cache);
    for (const auto &block : up_blocks_) y = block->forward(std::move(y), cache, first_chunk);
    at::Tensor normed = norm_out_->forward_silu(y);
    y.reset();
    return cached_conv(*conv_out_, std::move(normed), cache);
}

vae_module::vae_module(const vae_config &cfg, const tensor_options &opts, bool with_encoder) {
    post_quant_conv = register_module(
        "post_quant_conv", std::make_shared<causal_conv3d>(cfg.z_dim, cfg.z_dim, std::array<int64_t, 3>{1, 1, 1},
                                                           std::array<int64_t, 3>{0, 0, 0}, opts));
    decoder = register_module("decoder", std::make_shared<decoder3d>(cfg, opts));
    if (!with_encoder) return;
    const int64_t moments = 2 * static_cast<int64_t>(cfg.z_dim);
    quant_conv = register_module("quant_conv", std::make_shared<causal_conv3d>(moments, moments,
                                                                               std::array<int64_t, 3>{1, 1, 1},
                                                                               std::array<int64_t, 3>{0, 0, 0}, opts));
    encoder = register_module("encoder", std::make_shared<encoder3d>(cfg, opts));
}

}  // namespace omnihost::models::wan_vae::detail
