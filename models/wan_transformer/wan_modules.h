// Internal: the torch::nn::Module tree of WanTransformer3DModel. Module and parameter names mirror
// diffusers' exactly so that named_parameters() == checkpoint keys (load_module is strict).
// Only wan_transformer.cpp and tests include this (it pulls libtorch's nn headers).
#pragma once

#include "core/fused_ops.h"
#include "wan_transformer/wan_transformer_config.h"

#include <torch/nn/module.h>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace omnihost::models::wan::detail {

// nn.Linear: "weight" [out, in], "bias" [out].
struct linear_m : torch::nn::Module {
    at::Tensor weight, bias;
    linear_m(int64_t in, int64_t out);
    // act(x @ weight^T + bias) (fused::linear: oneDNN applies bias and activation where it can).
    at::Tensor operator()(const at::Tensor &x, fused::activation act = fused::activation::none) const;
};

// RoPE factors for one token grid: cos of the even channels and sin of the odd ones, [1, S, 1, D/2].
struct rope_grid {
    at::Tensor cos_even, sin_odd;
};

// torch.nn.RMSNorm(d, eps) over the last dim (Wan: over all heads jointly), "weight" [d].
struct rms_norm_m : torch::nn::Module {
    at::Tensor weight;
    double eps;
    rms_norm_m(int64_t dim, double eps);
    // x [B, S, dim] normalised over dim, split into n heads [B, S, n, dim/n]; with rope, RoPE applied
    // to each head (fused::rms_norm_rope).
    at::Tensor heads(const at::Tensor &x, int64_t n, const rope_grid *rope = nullptr) const;
};

// LayerNorm computed in float32 (diffusers' FP32LayerNorm) with "weight"/"bias" [d], eps as given.
struct fp32_layer_norm_m : torch::nn::Module {
    at::Tensor weight, bias;
    double eps;
    fp32_layer_norm_m(int64_t dim, double eps);
    at::Tensor operator()(const at::Tensor &x) const;  // in x's dtype
};

// WanImageEmbedding (condition_embedder.image_embedder): [pos_embed +] norm1 -> ff (GELU, erf)
// -> norm2. With pos_embed (first-last-frame), the batch's image pairs are joined first:
// [2B, S, D] -> [B, 2S, D].
struct image_embedder_m : torch::nn::Module {
    std::shared_ptr<fp32_layer_norm_m> norm1, norm2;
    std::shared_ptr<linear_m> ff_proj, ff_out;  // "ff.net.0.proj", "ff.net.2"
    at::Tensor pos_embed;                       // [1, pos_embed_seq_len, image_dim] or undefined
    image_embedder_m(int64_t in_features, int64_t out_features, std::optional<int64_t> pos_embed_seq_len);
    at::Tensor operator()(const at::Tensor &image_embeds) const;
};

// WanAttention: to_q/to_k/to_v/to_out.0 + norm_q/norm_k. Self-attention applies RoPE; cross-attention
// takes precomputed K/V of the projected text and, for I2V transformers (added_kv_proj_dim), of the
// embedded image through add_k_proj/add_v_proj/norm_added_k.
struct attention_m : torch::nn::Module {
    std::shared_ptr<linear_m> to_q, to_k, to_v, to_out0;
    std::shared_ptr<rms_norm_m> norm_q, norm_k;
    std::shared_ptr<linear_m> add_k_proj, add_v_proj;  // null unless added_kv_proj_dim
    std::shared_ptr<rms_norm_m> norm_added_k;
    int64_t heads;
    attention_m(int64_t dim, int64_t heads, double eps, std::optional<int64_t> added_kv_proj_dim = std::nullopt);
    at::Tensor self_attention(const at::Tensor &x, const rope_grid &rope) const;
    // K and V ([B, L, H, Dh]) of the context for cross-attention.
    std::pair<at::Tensor, at::Tensor> context_kv(const at::Tensor &context) const;
    // K and V of the embedded image through the added projections (add_k_proj must exist).
    std::pair<at::Tensor, at::Tensor> image_kv(const at::Tensor &image) const;
    // img_k/img_v undefined: text only. Otherwise attention over the image tokens is added to the
    // text attention before to_out (diffusers' order).
    at::Tensor cross_attention(const at::Tensor &x, const at::Tensor &k, const at::Tensor &v,
                               const at::Tensor &img_k = {}, const at::Tensor &img_v = {}) const;
};

// WanTransformerBlock.
struct block_m : torch::nn::Module {
    std::shared_ptr<attention_m> attn1, attn2;
    at::Tensor norm2_weight, norm2_bias;  // "norm2.weight"/"norm2.bias" when cross_attn_norm
    std::shared_ptr<linear_m> ffn_proj, ffn_out;  // "ffn.net.0.proj", "ffn.net.2"
    at::Tensor scale_shift_table;  // [1, 6, d]
    double eps;
    block_m(const wan_transformer_config &cfg);
    // temb_proj: [B, 6, d] or [B, N, 6, d] (per-token timesteps).
    // img_k/img_v: the image context's K/V (undefined when there is none).
    at::Tensor forward(const at::Tensor &x, const at::Tensor &text_k, const at::Tensor &text_v,
                       const at::Tensor &temb_proj, const rope_grid &rope, const at::Tensor &img_k = {},
                       const at::Tensor &img_v = {}) const;
};

// WanTransformer3DModel without its forward glue (see wan_transformer.cpp).
struct transformer_m : torch::nn::Module {
    wan_transformer_config cfg;
    at::Tensor patch_weight, patch_bias;  // "patch_embedding.weight/bias"
    std::shared_ptr<linear_m> time_linear_1, time_linear_2, time_proj, text_linear_1, text_linear_2;
    std::shared_ptr<image_embedder_m> image_embedder;  // null unless image_dim
    std::vector<std::shared_ptr<block_m>> blocks;
    std::shared_ptr<linear_m> proj_out;
    at::Tensor scale_shift_table;  // [1, 2, d]
    at::Tensor rope_cos, rope_sin;  // [rope_max_seq_len, head_dim] float32 (t | h | w), not parameters

    explicit transformer_m(const wan_transformer_config &cfg);
    rope_grid rope_for(int64_t frames, int64_t height, int64_t width) const;  // post-patch sizes
};

// softmax(q k^T / sqrt(Dh)) v with q/k scaled by sqrt(1/sqrt(Dh)) each as torch's math SDPA does,
// in query chunks so the score matrix stays bounded. q [B,S,H,Dh], k/v [B,L,H,Dh] -> [B,S,H*Dh].
at::Tensor attention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v);

}  // namespace omnihost::models::wan::detail
