// transformers' CLIPVisionTransformer as torch::nn modules whose parameter names are the checkpoint
// keys below "vision_model." (embeddings.patch_embedding.weight, encoder.layers.N.self_attn.q_proj.
// weight, ...). Internal to omnihost_clip_vision: includes libtorch, so only .cpp files include it.
//
// Math as modeling_clip.py (inference, eager attention): pre-norm blocks
//   h += out_proj(softmax(q k^T / sqrt(head_dim)) v) of layer_norm1(h); h += fc2(act(fc1(layer_norm2(h))))
// with the softmax in float32; the embeddings are [class; patches] + the position table, then
// pre_layrnorm. hidden_states[0] is that embedding, hidden_states[i] the output of layer i - 1.
#pragma once

#include "clip_vision/clip_vision_config.h"

#include <torch/torch.h>

namespace omnihost::models::clip_vision_detail {

// Parameters start as zero-memory placeholders of the right shape; load_module replaces them, so a
// 632 M-parameter ViT-H never initialises weights it is about to overwrite.
at::Tensor placeholder(at::IntArrayRef shape, c10::ScalarType dtype);

struct linear_impl : torch::nn::Module {
    linear_impl(int64_t in, int64_t out, c10::ScalarType dtype);
    at::Tensor forward(const at::Tensor &x) { return at::linear(x, weight, bias); }
    at::Tensor weight, bias;
};
TORCH_MODULE_IMPL(linear, linear_impl);

// A module holding just "weight" (the patch convolution, the position table).
struct weight_only_impl : torch::nn::Module {
    weight_only_impl(at::IntArrayRef shape, c10::ScalarType dtype);
    at::Tensor weight;
};
TORCH_MODULE_IMPL(weight_only, weight_only_impl);

struct layer_norm_impl : torch::nn::Module {
    layer_norm_impl(int64_t dim, double eps, c10::ScalarType dtype);
    at::Tensor forward(const at::Tensor &x);
    at::Tensor weight, bias;
    double eps;
};
TORCH_MODULE_IMPL(layer_norm, layer_norm_impl);

struct attention_impl : torch::nn::Module {
    attention_impl(const clip_vision_config &c, c10::ScalarType dtype);
    at::Tensor forward(const at::Tensor &h);
    int64_t heads, head_dim;
    linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr};
};
TORCH_MODULE_IMPL(attention, attention_impl);

struct mlp_impl : torch::nn::Module {
    mlp_impl(const clip_vision_config &c, c10::ScalarType dtype);
    at::Tensor forward(const at::Tensor &h);
    bool quick_gelu;
    linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE_IMPL(mlp, mlp_impl);

struct encoder_layer_impl : torch::nn::Module {
    encoder_layer_impl(const clip_vision_config &c, c10::ScalarType dtype);
    at::Tensor forward(const at::Tensor &h);
    attention self_attn{nullptr};
    layer_norm layer_norm1{nullptr}, layer_norm2{nullptr};
    mlp mlp_{nullptr};  // registered as "mlp"
};
TORCH_MODULE_IMPL(encoder_layer, encoder_layer_impl);

struct embeddings_impl : torch::nn::Module {
    embeddings_impl(const clip_vision_config &c, c10::ScalarType dtype);
    at::Tensor forward(const at::Tensor &pixel_values);
    int64_t patch;
    at::Tensor class_embedding;  // [hidden]
    weight_only patch_embedding{nullptr};     // conv weight [hidden, C, p, p], no bias
    weight_only position_embedding{nullptr};  // [positions, hidden]; every position is used
};
TORCH_MODULE_IMPL(embeddings, embeddings_impl);

struct encoder_impl : torch::nn::Module {
    encoder_impl(const clip_vision_config &c, c10::ScalarType dtype);
    torch::nn::ModuleList layers_list;  // registered as "layers"
    std::vector<encoder_layer> layers;
};
TORCH_MODULE_IMPL(encoder, encoder_impl);

// CLIPVisionTransformer: the module under "vision_model." in a CLIPVisionModel checkpoint.
struct vision_transformer_impl : torch::nn::Module {
    vision_transformer_impl(const clip_vision_config &c, c10::ScalarType dtype);
    embeddings embeddings_{nullptr};
    layer_norm pre_layrnorm{nullptr};  // sic: transformers' name
    encoder encoder_{nullptr};
    layer_norm post_layernorm{nullptr};
};
TORCH_MODULE_IMPL(vision_transformer, vision_transformer_impl);

// CLIPVisionModel as Wan's image_encoder/ (and transformers < 5) saves it: keys "vision_model.*".
struct vision_model_impl : torch::nn::Module {
    vision_model_impl(const clip_vision_config &c, c10::ScalarType dtype);
    vision_transformer vision_model{nullptr};
};
TORCH_MODULE_IMPL(vision_model, vision_model_impl);

}  // namespace omnihost::models::clip_vision_detail
