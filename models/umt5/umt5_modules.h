// The UMT5/T5 encoder as torch::nn modules whose parameter names are the transformers checkpoint
// keys (shared.weight, encoder.block.N.layer.0.SelfAttention.q.weight, ...). Internal to
// omnihost_umt5: includes libtorch, so only .cpp files include it.
//
// Math follows transformers' modeling_umt5.py / modeling_t5.py (encoder path, inference):
//  - T5 layer norm: h * rsqrt(mean(h^2 in fp32) + eps), cast to the weight dtype if half, * weight
//  - attention without 1/sqrt(d_kv) scaling; scores += (relative bias + additive mask); softmax in
//    fp32 then back to the scores dtype
//  - gated FFN: act(wi_0 h) * wi_1 h, cast to wo's dtype (wo may be kept fp32), wo
#pragma once

#include "umt5/umt5_config.h"

#include <torch/torch.h>

namespace omnihost::models::umt5_detail {

// storage: the dtype the weights are kept in; compute: the dtype the math runs in. They differ only
// for (storage bf16, compute fp32): weights stay bf16 in memory (zero-copy from a bf16 checkpoint)
// and are upcast where used, which is exact, so results equal loading the same file as fp32.
struct precision {
    c10::ScalarType storage = c10::kFloat;
    c10::ScalarType compute = c10::kFloat;
};

// The weight as the math wants it: upcast to fp32 when computing in fp32, otherwise as stored (so
// an fp32-kept wo stays fp32 in a bf16 model).
inline at::Tensor for_compute(const at::Tensor &w, c10::ScalarType compute) {
    return compute == c10::kFloat && w.scalar_type() != c10::kFloat ? w.to(c10::kFloat) : w;
}

// Parameters start as zero-memory placeholders of the right shape (all strides 0): load_module
// replaces them with the checkpoint data, so a 5.7 B-parameter encoder never allocates or
// initialises weights it is about to overwrite. A module used unloaded computes garbage.
at::Tensor placeholder(at::IntArrayRef shape, c10::ScalarType dtype);

struct t5_linear_impl : torch::nn::Module {
    t5_linear_impl(int64_t in, int64_t out, const precision &p);
    at::Tensor forward(const at::Tensor &x);
    at::Tensor weight;  // [out, in], no bias
    c10::ScalarType compute;
};
TORCH_MODULE_IMPL(t5_linear, t5_linear_impl);

struct t5_embedding_impl : torch::nn::Module {
    t5_embedding_impl(int64_t num, int64_t dim, const precision &p);
    at::Tensor forward(const at::Tensor &ids);
    at::Tensor weight;  // [num, dim]
    c10::ScalarType compute;
};
TORCH_MODULE_IMPL(t5_embedding, t5_embedding_impl);

struct t5_layer_norm_impl : torch::nn::Module {
    t5_layer_norm_impl(int64_t dim, double eps, const precision &p);
    at::Tensor forward(const at::Tensor &h);
    at::Tensor weight;
    double eps;
    c10::ScalarType compute;
};
TORCH_MODULE_IMPL(t5_layer_norm, t5_layer_norm_impl);

struct t5_attention_impl : torch::nn::Module {
    t5_attention_impl(const umt5_config &c, bool has_relative_bias, const precision &p);
    // [1, heads, q_len, k_len] bias from this layer's relative_attention_bias table.
    at::Tensor compute_bias(int64_t q_len, int64_t k_len);
    // bias_plus_mask: [B or 1, heads, L, L], already (relative bias + additive mask).
    at::Tensor forward(const at::Tensor &h, const at::Tensor &bias_plus_mask);

    int64_t heads, d_kv, num_buckets, max_distance;
    t5_linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};
    t5_embedding relative_attention_bias{nullptr};  // null when the layer has none (T5 blocks > 0)
};
TORCH_MODULE_IMPL(t5_attention, t5_attention_impl);

struct t5_layer_self_attention_impl : torch::nn::Module {
    t5_layer_self_attention_impl(const umt5_config &c, bool has_relative_bias, const precision &p);
    at::Tensor forward(const at::Tensor &h, const at::Tensor &bias_plus_mask);
    t5_attention SelfAttention{nullptr};
    t5_layer_norm layer_norm{nullptr};
};
TORCH_MODULE_IMPL(t5_layer_self_attention, t5_layer_self_attention_impl);

struct t5_dense_impl : torch::nn::Module {
    t5_dense_impl(const umt5_config &c, const precision &p);
    at::Tensor forward(const at::Tensor &h);
    bool gated;
    std::string act;
    t5_linear wi{nullptr}, wi_0{nullptr}, wi_1{nullptr}, wo{nullptr};
};
TORCH_MODULE_IMPL(t5_dense, t5_dense_impl);

struct t5_layer_ff_impl : torch::nn::Module {
    t5_layer_ff_impl(const umt5_config &c, const precision &p);
    at::Tensor forward(const at::Tensor &h);
    t5_dense DenseReluDense{nullptr};
    t5_layer_norm layer_norm{nullptr};
};
TORCH_MODULE_IMPL(t5_layer_ff, t5_layer_ff_impl);

struct t5_block_impl : torch::nn::Module {
    t5_block_impl(const umt5_config &c, bool has_relative_bias, const precision &p);
    at::Tensor forward(const at::Tensor &h, const at::Tensor &bias_plus_mask);
    torch::nn::ModuleList layer;  // [0] self-attention, [1] feed-forward (checkpoint names)
    t5_layer_self_attention self_attention{nullptr};
    t5_layer_ff feed_forward{nullptr};
};
TORCH_MODULE_IMPL(t5_block, t5_block_impl);

// "encoder" of the checkpoint: block.N, final_layer_norm (and embed_tokens when the checkpoint
// stores the embedding under that name instead of "shared").
struct t5_stack_impl : torch::nn::Module {
    t5_stack_impl(const umt5_config &c, bool own_embedding, const precision &p);
    torch::nn::ModuleList block;
    std::vector<t5_block> blocks;
    t5_layer_norm final_layer_norm{nullptr};
    t5_embedding embed_tokens{nullptr};
};
TORCH_MODULE_IMPL(t5_stack, t5_stack_impl);

// UMT5EncoderModel / T5EncoderModel.
struct encoder_model_impl : torch::nn::Module {
    enum class embedding_key { shared, encoder_embed_tokens };
    encoder_model_impl(const umt5_config &c, embedding_key key, const precision &p);
    // input_ids, attention_mask: [B, L] integer; returns last_hidden_state [B, L, d_model].
    at::Tensor forward(const at::Tensor &input_ids, const at::Tensor &attention_mask);

    umt5_config config;
    t5_embedding shared{nullptr};  // null when the embedding lives at encoder.embed_tokens
    t5_stack encoder{nullptr};
};
TORCH_MODULE_IMPL(encoder_model, encoder_model_impl);

// transformers' _relative_position_bucket (bidirectional, encoder) for relative positions j - i.
at::Tensor relative_position_bucket(const at::Tensor &relative_position, int64_t num_buckets, int64_t max_distance);

}  // namespace omnihost::models::umt5_detail
