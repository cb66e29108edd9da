// Oobleck decoder modules. Op order follows diffusers' autoencoder_oobleck.py (Snake:
// x + (beta + 1e-9).reciprocal() * sin(alpha * x).pow(2)); Snake runs in place on one temporary,
// which gives the same values as the reference's chain of out-of-place ops at a fraction of the
// memory (the full model's activations are 128 x 2.1M samples, 1 GB each in float32).
#include "oobleck_modules.h"

#include <ATen/ATen.h>

#include <string>

namespace omnihost::models::oobleck::detail {
namespace {

at::Tensor new_param(torch::nn::Module &m, const std::string &name, at::IntArrayRef shape) {
    return m.register_parameter(name, at::empty(shape), /*requires_grad=*/false);
}

// Drops a parameter's data once folded (the module keeps the name, the memory is freed).
void release(at::Tensor &t) { t.set_data(at::empty({0}, t.options())); }

}  // namespace

snake1d::snake1d(int64_t channels) {
    alpha = new_param(*this, "alpha", {1, channels, 1});
    beta = new_param(*this, "beta", {1, channels, 1});
}

void snake1d::fold(c10::ScalarType dtype, c10::Device device) {
    if (exp_alpha_.defined()) {  // already folded: only move / cast
        exp_alpha_ = exp_alpha_.to(device, dtype);
        inv_beta_ = inv_beta_.to(device, dtype);
        return;
    }
    exp_alpha_ = at::exp(alpha).to(device, dtype);
    inv_beta_ = (at::exp(beta) + 1e-9).reciprocal().to(device, dtype);
}

at::Tensor snake1d::forward(const at::Tensor &x) const {
    at::Tensor t = at::mul(exp_alpha_, x);
    t.sin_();
    t.pow_(2);
    t.mul_(inv_beta_);
    return t.add_(x, 1);
}

wn_conv1d::wn_conv1d(const spec &s) : spec_(s) {
    // Conv1d weight [out, in, k]; ConvTranspose1d weight [in, out, k]; g is [dim 0, 1, 1].
    const int64_t d0 = s.transposed ? s.in : s.out, d1 = s.transposed ? s.out : s.in;
    weight_g = new_param(*this, "weight_g", {d0, 1, 1});
    weight_v = new_param(*this, "weight_v", {d0, d1, s.kernel});
    if (s.bias) bias = new_param(*this, "bias", {s.out});
}

void wn_conv1d::fold(c10::ScalarType dtype, c10::Device device) {
    if (weight_.defined()) {  // already folded: only move / cast
        weight_ = weight_.to(device, dtype);
        if (bias_.defined()) bias_ = bias_.to(device, dtype);
        return;
    }
    weight_ = at::_weight_norm(weight_v.to(at::kFloat), weight_g.to(at::kFloat), 0).to(device, dtype);
    if (spec_.bias) bias_ = bias.to(device, dtype);
    release(weight_g);
    release(weight_v);
}

at::Tensor wn_conv1d::forward(const at::Tensor &x) const {
    if (spec_.transposed)
        return at::conv_transpose1d(x, weight_, bias_, spec_.stride, spec_.padding, /*output_padding=*/0,
                                    /*groups=*/1, spec_.dilation);
    return at::conv1d(x, weight_, bias_, spec_.stride, spec_.padding, spec_.dilation);
}

residual_unit::residual_unit(int64_t dim, int64_t dilation) {
    const int64_t pad = ((7 - 1) * dilation) / 2;
    snake1_ = register_module("snake1", std::make_shared<snake1d>(dim));
    conv1_ = register_module("conv1", std::make_shared<wn_conv1d>(wn_conv1d::spec{dim, dim, 7, 1, pad, dilation}));
    snake2_ = register_module("snake2", std::make_shared<snake1d>(dim));
    conv2_ = register_module("conv2", std::make_shared<wn_conv1d>(wn_conv1d::spec{dim, dim, 1}));
}

void residual_unit::fold(c10::ScalarType dtype, c10::Device device) {
    snake1_->fold(dtype, device);
    conv1_->fold(dtype, device);
    snake2_->fold(dtype, device);
    conv2_->fold(dtype, device);
}

at::Tensor residual_unit::forward(const at::Tensor &x) const {
    at::Tensor y = conv2_->forward(snake2_->forward(conv1_->forward(snake1_->forward(x))));
    // The reference crops x when the convs shortened it; with these paddings they never do.
    const int64_t pad = (x.size(-1) - y.size(-1)) / 2;
    const at::Tensor skip = pad > 0 ? x.narrow(-1, pad, x.size(-1) - 2 * pad) : x;
    return skip + y;
}

decoder_block::decoder_block(int64_t in, int64_t out, int64_t stride) {
    snake1_ = register_module("snake1", std::make_shared<snake1d>(in));
    wn_conv1d::spec t{in, out, 2 * stride, stride, (stride + 1) / 2};  // padding ceil(stride / 2)
    t.transposed = true;
    conv_t1_ = register_module("conv_t1", std::make_shared<wn_conv1d>(t));
    res_unit1_ = register_module("res_unit1", std::make_shared<residual_unit>(out, 1));
    res_unit2_ = register_module("res_unit2", std::make_shared<residual_unit>(out, 3));
    res_unit3_ = register_module("res_unit3", std::make_shared<residual_unit>(out, 9));
}

void decoder_block::fold(c10::ScalarType dtype, c10::Device device) {
    snake1_->fold(dtype, device);
    conv_t1_->fold(dtype, device);
    res_unit1_->fold(dtype, device);
    res_unit2_->fold(dtype, device);
    res_unit3_->fold(dtype, device);
}

at::Tensor decoder_block::forward(const at::Tensor &x) const {
    at::Tensor h = conv_t1_->forward(snake1_->forward(x));
    h = res_unit1_->forward(h);
    h = res_unit2_->forward(h);
    return res_unit3_->forward(h);
}

decoder::decoder(int64_t channels, int64_t input_channels, int64_t audio_channels,
                 const std::vector<int64_t> &strides, const std::vector<int64_t> &channel_multiples) {
    std::vector<int64_t> cm{1};
    cm.insert(cm.end(), channel_multiples.begin(), channel_multiples.end());
    const size_t n = strides.size();
    conv1_ = register_module("conv1", std::make_shared<wn_conv1d>(
                                          wn_conv1d::spec{input_channels, channels * cm.back(), 7, 1, 3}));
    auto list = register_module("block", torch::nn::ModuleList());
    for (size_t i = 0; i < n; ++i) {
        auto b = std::make_shared<decoder_block>(channels * cm[n - i], channels * cm[n - i - 1], strides[i]);
        list->push_back(b);
        blocks_.push_back(b);
    }
    snake1_ = register_module("snake1", std::make_shared<snake1d>(channels));
    wn_conv1d::spec out{channels, audio_channels, 7, 1, 3};
    out.bias = false;
    conv2_ = register_module("conv2", std::make_shared<wn_conv1d>(out));
}

void decoder::fold(c10::ScalarType dtype, c10::Device device) {
    conv1_->fold(dtype, device);
    for (auto &b : blocks_) b->fold(dtype, device);
    snake1_->fold(dtype, device);
    conv2_->fold(dtype, device);
}

at::Tensor decoder::forward_head(const at::Tensor &x) const { return conv1_->forward(x); }
at::Tensor decoder::forward_block(size_t i, const at::Tensor &x) const { return blocks_.at(i)->forward(x); }
at::Tensor decoder::forward_tail(const at::Tensor &x) const { return conv2_->forward(snake1_->forward(x)); }

}  // namespace omnihost::models::oobleck::detail
