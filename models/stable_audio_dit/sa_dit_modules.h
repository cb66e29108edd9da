// Internal: the torch::nn::Module trees of StableAudioDiTModel and StableAudioProjectionModel.
// Module and parameter names mirror diffusers' exactly so that named_parameters() == checkpoint keys
// (load_module is strict). Only this library's .cpp files and tests include it (libtorch nn headers).
#pragma once

#include "stable_audio_dit/sa_dit_config.h"
#include "stable_audio_dit/sa_rope.h"

#include <torch/nn/module.h>

#include <memory>
#include <utility>
#include <vector>

namespace omnihost::models::stable_audio::detail {

// nn.Linear: "weight" [out, in], "bias" [out] when `bias`.
struct linear_m : torch::nn::Module {
    at::Tensor weight, bias;
    linear_m(int64_t in, int64_t out, bool bias);
    at::Tensor operator()(const at::Tensor &x) const;
};

// nn.LayerNorm(dim, eps, elementwise_affine=True): "weight", "bias".
struct layer_norm_m : torch::nn::Module {
    at::Tensor weight, bias;
    double eps;
    layer_norm_m(int64_t dim, double eps);
    at::Tensor operator()(const at::Tensor &x) const;
};

// nn.Sequential(Linear, SiLU, Linear): children "0" and "2".
struct mlp_m : torch::nn::Module {
    std::shared_ptr<linear_m> l0, l2;
    mlp_m(int64_t in, int64_t hidden, int64_t out, bool bias);
    at::Tensor operator()(const at::Tensor &x) const;
};

// diffusers Attention with StableAudioAttnProcessor2_0 (no biases, no q/k norm). K/V may have fewer
// heads than Q (grouped-query attention: each K/V head serves heads/kv_heads consecutive Q heads).
struct attention_m : torch::nn::Module {
    std::shared_ptr<linear_m> to_q, to_k, to_v, to_out0;
    int64_t heads, head_dim;
    attention_m(int64_t query_dim, int64_t kv_input_dim, int64_t heads, int64_t kv_heads, int64_t head_dim);
    // Self-attention with RoPE on the first rope.cos.size(-1) channels of q and k. cos/sin: [S, rd].
    at::Tensor self_attention(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin) const;
    // K and V ([B, kv_heads, L, head_dim]) of the context for cross-attention.
    std::pair<at::Tensor, at::Tensor> context_kv(const at::Tensor &context) const;
    at::Tensor cross_attention(const at::Tensor &x, const at::Tensor &k, const at::Tensor &v) const;
};

// StableAudioDiTBlock: pre-LayerNorm self-attention, cross-attention and SwiGLU feed-forward.
struct block_m : torch::nn::Module {
    std::shared_ptr<layer_norm_m> norm1, norm2, norm3;
    std::shared_ptr<attention_m> attn1, attn2;
    std::shared_ptr<linear_m> ff_proj, ff_out;  // "ff.net.0.proj", "ff.net.2"
    explicit block_m(const dit_config &cfg);
    at::Tensor forward(const at::Tensor &x, const at::Tensor &text_k, const at::Tensor &text_v,
                       const at::Tensor &cos, const at::Tensor &sin) const;
};

struct dit_m : torch::nn::Module {
    dit_config cfg;
    at::Tensor time_proj_weight;  // "time_proj.weight" [time_proj_dim / 2]
    std::shared_ptr<mlp_m> timestep_proj, global_proj, cross_attention_proj;
    at::Tensor preprocess_conv_weight, postprocess_conv_weight;  // Conv1d(C, C, 1, bias=False)
    std::shared_ptr<linear_m> proj_in, proj_out;
    std::vector<std::shared_ptr<block_m>> blocks;  // "transformer_blocks.N"
    explicit dit_m(const dit_config &cfg);
};

// StableAudioNumberConditioner: time_positional_embedding = Sequential(
//   StableAudioPositionalEmbedding(256) ("0.weights" [128]), Linear(257, dim) ("1")).
struct number_conditioner_m : torch::nn::Module {
    at::Tensor weights;
    std::shared_ptr<linear_m> linear;
    double min_value, max_value;
    number_conditioner_m(int64_t dim, double min_value, double max_value);
    at::Tensor operator()(const at::Tensor &seconds) const;  // [B] -> [B, 1, dim]
};

struct projection_m : torch::nn::Module {
    projection_config cfg;
    std::shared_ptr<linear_m> text_projection;  // null when the projection is the identity
    std::shared_ptr<number_conditioner_m> start, end;
    explicit projection_m(const projection_config &cfg);
};

// torch's math scaled_dot_product_attention: softmax((q*sqrt(s)) @ (k*sqrt(s))^T) @ v, s = 1/sqrt(D),
// in query chunks so the score matrix stays bounded. q [B,H,S,D], k/v [B,H,L,D] -> [B,H,S,D].
at::Tensor sdpa(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v);

// diffusers apply_rotary_emb(use_real=True, use_real_unbind_dim=-2) on x [B,H,S,rd] float32:
// x * cos + cat(-x[..., rd/2:], x[..., :rd/2]) * sin, cos/sin [S, rd].
at::Tensor apply_rotary(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin);

}  // namespace omnihost::models::stable_audio::detail
