// Op order mirrors diffusers' stable_audio_transformer.py / attention_processor.py
// (StableAudioAttnProcessor2_0) / modeling_stable_audio.py; where the order of two float operations
// matters for bit-level agreement the code keeps diffusers' order and says so.
#include "core/fused_ops.h"
#include "stable_audio_dit/sa_dit_modules.h"

#include "core/torch_compat.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace omnihost::models::stable_audio::detail {
namespace {

// Parameters start uninitialised (at::empty): load_module or random() replaces them before use, so
// building the tree does not touch a second copy of the model.
at::Tensor param(torch::nn::Module &m, const std::string &name, at::IntArrayRef shape) {
    return m.register_parameter(name, at::empty(shape, at::kFloat), /*requires_grad=*/false);
}

std::shared_ptr<torch::nn::Module> child(torch::nn::Module &m, const std::string &name) {
    return m.register_module(name, std::make_shared<torch::nn::Module>());
}

// Score-matrix budget per chunk (elements of B*H*chunk*L); ~256 MiB in float32.
constexpr int64_t max_score_elements = 64ll * 1024 * 1024;

}  // namespace

linear_m::linear_m(int64_t in, int64_t out, bool with_bias) {
    weight = param(*this, "weight", {out, in});
    if (with_bias) bias = param(*this, "bias", {out});
}

// fused::linear: in bf16 on the CPU, oneDNN's linear (faster than the addmm path there).
at::Tensor linear_m::operator()(const at::Tensor &x) const { return fused::linear(x, weight, bias); }

layer_norm_m::layer_norm_m(int64_t dim, double eps_) : eps(eps_) {
    weight = param(*this, "weight", {dim});
    bias = param(*this, "bias", {dim});
}

at::Tensor layer_norm_m::operator()(const at::Tensor &x) const {
    // nn.LayerNorm in the model dtype: fp32 statistics, one rounding to x's dtype; one pass on the CPU.
    return fused::layer_norm_modulate(x, weight, bias, eps, {}, {}, x.scalar_type());
}

mlp_m::mlp_m(int64_t in, int64_t hidden, int64_t out, bool bias) {
    l0 = register_module("0", std::make_shared<linear_m>(in, hidden, bias));
    l2 = register_module("2", std::make_shared<linear_m>(hidden, out, bias));
}

at::Tensor mlp_m::operator()(const at::Tensor &x) const { return (*l2)(at::silu((*l0)(x))); }

at::Tensor sdpa(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v) {
#if OMNIHOST_HAS_SDPA
    // F.scaled_dot_product_attention as diffusers calls it: the fused kernel where the libtorch has it.
    if (models::sdpa_enabled()) return at::scaled_dot_product_attention(q, k, v);
#endif
    // No SDPA (libtorch 1.13): the math path in query chunks that bound the score matrix.
    const int64_t B = q.size(0), H = q.size(1), S = q.size(2), D = q.size(3), L = k.size(2);
    const double sqrt_scale = std::sqrt(1.0 / std::sqrt(static_cast<double>(D)));
    at::Tensor qs = q * sqrt_scale;
    at::Tensor kt = k.transpose(-2, -1) * sqrt_scale;  // [B,H,D,L]
    auto one = [&](const at::Tensor &qc) {
        at::Tensor scores = at::matmul(qc, kt);  // [B,H,c,L]
        at::Tensor probs = fused::softmax_lastdim(scores, scores.scalar_type());  // fp32 math
        return at::matmul(probs, v);
    };
    const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(S, max_score_elements / std::max<int64_t>(1, B * H * L)));
    if (chunk >= S) return one(qs);
    at::Tensor out = at::empty({B, H, S, D}, q.options());
    for (int64_t s0 = 0; s0 < S; s0 += chunk) {
        const int64_t s1 = std::min(S, s0 + chunk);
        out.slice(2, s0, s1).copy_(one(qs.slice(2, s0, s1)));
    }
    return out;
}

at::Tensor apply_rotary(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin) {
    // x.reshape(..., 2, -1).unbind(-2): first half "real", second half "imaginary".
    const int64_t half = x.size(-1) / 2;
    at::Tensor x_real = x.slice(-1, 0, half), x_imag = x.slice(-1, half);
    at::Tensor rotated = at::cat({-x_imag, x_real}, -1);
    return (x.to(at::kFloat) * cos + rotated.to(at::kFloat) * sin).to(x.scalar_type());
}

attention_m::attention_m(int64_t query_dim, int64_t kv_input_dim, int64_t heads_, int64_t kv_heads, int64_t head_dim_)
    : heads(heads_), head_dim(head_dim_) {
    to_q = register_module("to_q", std::make_shared<linear_m>(query_dim, heads * head_dim, false));
    to_k = register_module("to_k", std::make_shared<linear_m>(kv_input_dim, kv_heads * head_dim, false));
    to_v = register_module("to_v", std::make_shared<linear_m>(kv_input_dim, kv_heads * head_dim, false));
    auto to_out = child(*this, "to_out");
    to_out0 = to_out->register_module("0", std::make_shared<linear_m>(heads * head_dim, query_dim, false));
}

namespace {

// GQA: repeat each K/V head heads/kv_heads times along dim 1 (torch.repeat_interleave).
at::Tensor expand_heads(const at::Tensor &t, int64_t heads) {
    const int64_t kv_heads = t.size(1);
    return kv_heads == heads ? t : at::repeat_interleave(t, heads / kv_heads, 1);
}

at::Tensor merge_heads(const at::Tensor &o, const at::Tensor &q) {
    // [B,H,S,D] -> [B,S,H*D], in the query dtype.
    return o.transpose(1, 2).reshape({o.size(0), -1, o.size(1) * o.size(3)}).to(q.scalar_type());
}

// cat(rotary(x[..., :rd]), x[..., rd:]) in float32 (diffusers casts q/k to fp32 around it).
at::Tensor partial_rotary(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin) {
    const int64_t rd = cos.size(-1);
    at::Tensor xf = x.to(at::kFloat);
    at::Tensor r = apply_rotary(xf.slice(-1, 0, rd), cos, sin);
    return at::cat({r, xf.slice(-1, rd)}, -1).to(x.scalar_type());
}

}  // namespace

at::Tensor attention_m::self_attention(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin) const {
    const int64_t B = x.size(0);
    at::Tensor q = (*to_q)(x).view({B, -1, heads, head_dim}).transpose(1, 2);
    at::Tensor k = (*to_k)(x);
    at::Tensor v = (*to_v)(x);
    const int64_t kv_heads = k.size(-1) / head_dim;
    k = expand_heads(k.view({B, -1, kv_heads, head_dim}).transpose(1, 2), heads);
    v = expand_heads(v.view({B, -1, kv_heads, head_dim}).transpose(1, 2), heads);
    q = partial_rotary(q, cos, sin);
    k = partial_rotary(k, cos, sin);
    return (*to_out0)(merge_heads(sdpa(q, k, v), q));
}

std::pair<at::Tensor, at::Tensor> attention_m::context_kv(const at::Tensor &context) const {
    const int64_t B = context.size(0);
    at::Tensor k = (*to_k)(context);
    at::Tensor v = (*to_v)(context);
    const int64_t kv_heads = k.size(-1) / head_dim;
    return {k.view({B, -1, kv_heads, head_dim}).transpose(1, 2), v.view({B, -1, kv_heads, head_dim}).transpose(1, 2)};
}

at::Tensor attention_m::cross_attention(const at::Tensor &x, const at::Tensor &k, const at::Tensor &v) const {
    const int64_t B = x.size(0);
    at::Tensor q = (*to_q)(x).view({B, -1, heads, head_dim}).transpose(1, 2);
    return (*to_out0)(merge_heads(sdpa(q, expand_heads(k, heads), expand_heads(v, heads)), q));
}

block_m::block_m(const dit_config &cfg) {
    const int64_t d = cfg.inner_dim(), hd = cfg.attention_head_dim, h = cfg.num_attention_heads;
    constexpr double eps = 1e-5;
    norm1 = register_module("norm1", std::make_shared<layer_norm_m>(d, eps));
    attn1 = register_module("attn1", std::make_shared<attention_m>(d, d, h, h, hd));
    norm2 = register_module("norm2", std::make_shared<layer_norm_m>(d, eps));
    attn2 = register_module("attn2", std::make_shared<attention_m>(d, cfg.cross_attention_dim, h,
                                                                   cfg.num_key_value_attention_heads, hd));
    norm3 = register_module("norm3", std::make_shared<layer_norm_m>(d, eps));
    // FeedForward(dim, activation_fn="swiglu", bias=True): inner = 4 * dim; net.0 = SwiGLU(proj to
    // 2 * inner), net.1 = Dropout, net.2 = Linear(inner, dim).
    auto ff = child(*this, "ff");
    auto net = child(*ff, "net");
    auto net0 = child(*net, "0");
    ff_proj = net0->register_module("proj", std::make_shared<linear_m>(d, 2 * 4 * d, true));
    ff_out = net->register_module("2", std::make_shared<linear_m>(4 * d, d, true));
}

at::Tensor block_m::forward(const at::Tensor &x_in, const at::Tensor &text_k, const at::Tensor &text_v,
                            const at::Tensor &cos, const at::Tensor &sin) const {
    at::Tensor x = attn1->self_attention((*norm1)(x_in), cos, sin) + x_in;
    x = attn2->cross_attention((*norm2)(x), text_k, text_v) + x;
    auto parts = (*ff_proj)((*norm3)(x)).chunk(2, -1);  // SwiGLU: hidden, gate
    return (*ff_out)(parts[0] * at::silu(parts[1])) + x;
}

dit_m::dit_m(const dit_config &c) : cfg(c) {
    const int64_t d = cfg.inner_dim();
    auto tp = child(*this, "time_proj");
    time_proj_weight = param(*tp, "weight", {cfg.time_proj_dim / 2});
    timestep_proj = register_module("timestep_proj", std::make_shared<mlp_m>(cfg.time_proj_dim, d, d, true));
    global_proj = register_module("global_proj", std::make_shared<mlp_m>(cfg.global_states_input_dim, d, d, false));
    cross_attention_proj = register_module(
        "cross_attention_proj",
        std::make_shared<mlp_m>(cfg.cross_attention_input_dim, cfg.cross_attention_dim, cfg.cross_attention_dim, false));
    preprocess_conv_weight = param(*child(*this, "preprocess_conv"), "weight", {cfg.in_channels, cfg.in_channels, 1});
    proj_in = register_module("proj_in", std::make_shared<linear_m>(cfg.in_channels, d, false));
    auto tb = child(*this, "transformer_blocks");
    for (int64_t i = 0; i < cfg.num_layers; ++i)
        blocks.push_back(tb->register_module(std::to_string(i), std::make_shared<block_m>(cfg)));
    proj_out = register_module("proj_out", std::make_shared<linear_m>(d, cfg.out_channels, false));
    postprocess_conv_weight =
        param(*child(*this, "postprocess_conv"), "weight", {cfg.out_channels, cfg.out_channels, 1});
}

number_conditioner_m::number_conditioner_m(int64_t dim, double min_v, double max_v) : min_value(min_v), max_value(max_v) {
    constexpr int64_t internal_dim = 256;  // diffusers' fixed default
    auto tpe = child(*this, "time_positional_embedding");
    weights = param(*child(*tpe, "0"), "weights", {internal_dim / 2});
    linear = tpe->register_module("1", std::make_shared<linear_m>(internal_dim + 1, dim, true));
}

at::Tensor number_conditioner_m::operator()(const at::Tensor &seconds) const {
    at::Tensor x = at::clamp(seconds, min_value, max_value);
    x = ((x - min_value) / (max_value - min_value)).to(weights.scalar_type());
    at::Tensor times = x.unsqueeze(-1);
    // Written as diffusers does: times * weights[None] * 2 * pi, evaluated left to right.
    at::Tensor freqs = times * weights.unsqueeze(0) * 2 * M_PI;
    at::Tensor emb = at::cat({times, at::cat({freqs.sin(), freqs.cos()}, -1)}, -1);
    return (*linear)(emb).view({-1, 1, linear->weight.size(0)});
}

projection_m::projection_m(const projection_config &c) : cfg(c) {
    if (!cfg.text_projection_is_identity())
        text_projection = register_module("text_projection",
                                          std::make_shared<linear_m>(cfg.text_encoder_dim, cfg.conditioning_dim, true));
    start = register_module("start_number_conditioner",
                            std::make_shared<number_conditioner_m>(cfg.conditioning_dim, cfg.min_value, cfg.max_value));
    end = register_module("end_number_conditioner",
                          std::make_shared<number_conditioner_m>(cfg.conditioning_dim, cfg.min_value, cfg.max_value));
}

}  // namespace omnihost::models::stable_audio::detail
