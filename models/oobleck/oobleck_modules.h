// Modules of the Oobleck decoder (internal to models/oobleck). Each registers its parameters under
// diffusers' names, so the tree's dotted names equal the checkpoint keys; parameters start as
// at::empty (load_module always overwrites them). After loading, fold() precomputes what every
// forward of the reference recomputes from the parameters (the weight-normed conv weights, Snake's
// exp(alpha) and 1/(exp(beta) + 1e-9)) and releases the stored g / v; calling fold() again only
// moves / casts the folded tensors (CPU offload).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include <cstdint>
#include <memory>

namespace omnihost::models::oobleck::detail {

// Snake1d (logscale): y = x + 1/(exp(beta) + 1e-9) * sin(exp(alpha) * x)^2, per channel.
class snake1d : public torch::nn::Module {
public:
    explicit snake1d(int64_t channels);
    at::Tensor forward(const at::Tensor &x) const;
    void fold(c10::ScalarType dtype, c10::Device device);

    at::Tensor alpha, beta;  // [1, C, 1], as stored

private:
    at::Tensor exp_alpha_, inv_beta_;
};

// weight_norm(nn.Conv1d) or weight_norm(nn.ConvTranspose1d), dim 0.
class wn_conv1d : public torch::nn::Module {
public:
    struct spec {
        int64_t in, out, kernel;
        int64_t stride = 1, padding = 0, dilation = 1;
        bool bias = true;
        bool transposed = false;
    };
    explicit wn_conv1d(const spec &s);
    at::Tensor forward(const at::Tensor &x) const;
    // W = g * v / ||v|| (torch._weight_norm(v, g, 0), computed in float32), then cast to dtype.
    void fold(c10::ScalarType dtype, c10::Device device);

    at::Tensor weight_g, weight_v, bias;

private:
    spec spec_;
    at::Tensor weight_, bias_;
};

// OobleckResidualUnit: x + conv2(snake2(conv1(snake1(x)))), conv1 kernel 7 with dilation.
class residual_unit : public torch::nn::Module {
public:
    residual_unit(int64_t dim, int64_t dilation);
    at::Tensor forward(const at::Tensor &x) const;
    void fold(c10::ScalarType dtype, c10::Device device);

private:
    std::shared_ptr<snake1d> snake1_, snake2_;
    std::shared_ptr<wn_conv1d> conv1_, conv2_;
};

// OobleckDecoderBlock: snake1 -> conv_t1 (upsample by stride) -> res_unit1/2/3 (dilation 1, 3, 9).
class decoder_block : public torch::nn::Module {
public:
    decoder_block(int64_t in, int64_t out, int64_t stride);
    at::Tensor forward(const at::Tensor &x) const;
    void fold(c10::ScalarType dtype, c10::Device device);

private:
    std::shared_ptr<snake1d> snake1_;
    std::shared_ptr<wn_conv1d> conv_t1_;
    std::shared_ptr<residual_unit> res_unit1_, res_unit2_, res_unit3_;
};

// OobleckDecoder, registered as "decoder" under a root module so names read "decoder.block.0...".
class decoder : public torch::nn::Module {
public:
    decoder(int64_t channels, int64_t input_channels, int64_t audio_channels, const std::vector<int64_t> &upsampling_ratios,
            const std::vector<int64_t> &channel_multiples);
    at::Tensor forward_head(const at::Tensor &x) const;                    // conv1
    at::Tensor forward_block(size_t i, const at::Tensor &x) const;         // block[i]
    at::Tensor forward_tail(const at::Tensor &x) const;                    // snake1 -> conv2
    size_t num_blocks() const { return blocks_.size(); }
    void fold(c10::ScalarType dtype, c10::Device device);

private:
    std::shared_ptr<wn_conv1d> conv1_, conv2_;
    std::vector<std::shared_ptr<decoder_block>> blocks_;
    std::shared_ptr<snake1d> snake1_;
};

}  // namespace omnihost::models::oobleck::detail
