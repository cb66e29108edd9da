#include "clip_vision/clip_vision_modules.h"

#include "core/torch_compat.h"

namespace omnihost::models::clip_vision_detail {

at::Tensor placeholder(at::IntArrayRef shape, c10::ScalarType dtype) {
    // All-zero strides: one element of storage, the right sizes, and not a view of anything.
    return at::empty_strided(shape, std::vector<int64_t>(shape.size(), 0), at::TensorOptions().dtype(dtype));
}

linear_impl::linear_impl(int64_t in, int64_t out, c10::ScalarType dtype) {
    weight = register_parameter("weight", placeholder({out, in}, dtype), /*requires_grad=*/false);
    bias = register_parameter("bias", placeholder({out}, dtype), /*requires_grad=*/false);
}

weight_only_impl::weight_only_impl(at::IntArrayRef shape, c10::ScalarType dtype) {
    weight = register_parameter("weight", placeholder(shape, dtype), /*requires_grad=*/false);
}

layer_norm_impl::layer_norm_impl(int64_t dim, double eps_, c10::ScalarType dtype) : eps(eps_) {
    weight = register_parameter("weight", placeholder({dim}, dtype), /*requires_grad=*/false);
    bias = register_parameter("bias", placeholder({dim}, dtype), /*requires_grad=*/false);
}

at::Tensor layer_norm_impl::forward(const at::Tensor &x) {
    return at::layer_norm(x, {weight.size(0)}, weight, bias, eps);
}

attention_impl::attention_impl(const clip_vision_config &c, c10::ScalarType dtype)
    : heads(c.num_attention_heads), head_dim(c.head_dim()) {
    q_proj = register_module("q_proj", linear(c.hidden_size, c.hidden_size, dtype));
    k_proj = register_module("k_proj", linear(c.hidden_size, c.hidden_size, dtype));
    v_proj = register_module("v_proj", linear(c.hidden_size, c.hidden_size, dtype));
    out_proj = register_module("out_proj", linear(c.hidden_size, c.hidden_size, dtype));
}

at::Tensor attention_impl::forward(const at::Tensor &h) {
    const int64_t batch = h.size(0), len = h.size(1);
    auto split = [&](const at::Tensor &x) { return x.view({batch, len, heads, head_dim}).transpose(1, 2); };
    const auto q = split(q_proj(h));
    const auto k = split(k_proj(h));
    const auto v = split(v_proj(h));
    at::Tensor o;
#if OMNIHOST_HAS_SDPA
    if (models::sdpa_enabled()) {
        // The fused kernel (transformers' default "sdpa" attention); same scale, no mask.
        o = at::scaled_dot_product_attention(q, k, v);
    }
#endif
    if (!o.defined()) {
        // transformers' eager_attention_forward: scores scaled after the product, softmax in fp32.
        const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
        const auto scores = at::matmul(q, k.transpose(-1, -2)) * scale;
        o = at::matmul(at::softmax(scores, -1, at::kFloat).to(q.scalar_type()), v);
    }
    return out_proj(o.transpose(1, 2).reshape({batch, len, heads * head_dim}));
}

mlp_impl::mlp_impl(const clip_vision_config &c, c10::ScalarType dtype) : quick_gelu(c.hidden_act == "quick_gelu") {
    fc1 = register_module("fc1", linear(c.hidden_size, c.intermediate_size, dtype));
    fc2 = register_module("fc2", linear(c.intermediate_size, c.hidden_size, dtype));
}

at::Tensor mlp_impl::forward(const at::Tensor &h) {
    auto x = fc1(h);
    x = quick_gelu ? x * at::sigmoid(1.702 * x) : at::gelu(x);
    return fc2(x);
}

encoder_layer_impl::encoder_layer_impl(const clip_vision_config &c, c10::ScalarType dtype) {
    self_attn = register_module("self_attn", attention(c, dtype));
    layer_norm1 = register_module("layer_norm1", layer_norm(c.hidden_size, c.layer_norm_eps, dtype));
    mlp_ = register_module("mlp", mlp(c, dtype));
    layer_norm2 = register_module("layer_norm2", layer_norm(c.hidden_size, c.layer_norm_eps, dtype));
}

at::Tensor encoder_layer_impl::forward(const at::Tensor &h) {
    auto x = h + self_attn(layer_norm1(h));
    return x + mlp_(layer_norm2(x));
}

embeddings_impl::embeddings_impl(const clip_vision_config &c, c10::ScalarType dtype) : patch(c.patch_size) {
    class_embedding = register_parameter("class_embedding", placeholder({c.hidden_size}, dtype), false);
    patch_embedding = register_module(
        "patch_embedding", weight_only(std::vector<int64_t>{c.hidden_size, c.num_channels, c.patch_size, c.patch_size}, dtype));
    position_embedding =
        register_module("position_embedding", weight_only(std::vector<int64_t>{c.num_positions(), c.hidden_size}, dtype));
}

at::Tensor embeddings_impl::forward(const at::Tensor &pixel_values) {
    const auto &w = patch_embedding->weight;
    const int64_t batch = pixel_values.size(0);
    // [B, hidden, g, g] -> [B, g*g, hidden]
    const auto patches = at::conv2d(pixel_values.to(w.scalar_type()), w, {}, {patch, patch}).flatten(2).transpose(1, 2);
    const auto cls = class_embedding.view({1, 1, -1}).expand({batch, 1, class_embedding.size(0)});
    return at::cat({cls, patches}, 1) + position_embedding->weight.unsqueeze(0);
}

encoder_impl::encoder_impl(const clip_vision_config &c, c10::ScalarType dtype) {
    layers_list = register_module("layers", torch::nn::ModuleList());
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        layers.push_back(encoder_layer(c, dtype));
        layers_list->push_back(layers.back());
    }
}

vision_transformer_impl::vision_transformer_impl(const clip_vision_config &c, c10::ScalarType dtype) {
    embeddings_ = register_module("embeddings", embeddings(c, dtype));
    pre_layrnorm = register_module("pre_layrnorm", layer_norm(c.hidden_size, c.layer_norm_eps, dtype));
    encoder_ = register_module("encoder", encoder(c, dtype));
    post_layernorm = register_module("post_layernorm", layer_norm(c.hidden_size, c.layer_norm_eps, dtype));
}

vision_model_impl::vision_model_impl(const clip_vision_config &c, c10::ScalarType dtype) {
    vision_model = register_module("vision_model", vision_transformer(c, dtype));
}

}  // namespace omnihost::models::clip_vision_detail
