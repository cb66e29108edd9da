// Op order mirrors diffusers' transformer_wan.py op for op, because the outputs are checked against
// diffusers' at near bit level: a reordered add or cast moves the result. Comments mark where it matters.
#include "wan_transformer/wan_modules.h"

#include "core/fused_ops.h"
#include "core/torch_compat.h"
#include "wan_transformer/wan_rope.h"

#include <ATen/ATen.h>

#include <cmath>

namespace omnihost::models::wan::detail {
namespace {

// Parameters start uninitialised (at::empty): their pages are never touched before load_module or
// random() replaces them, so building the tree does not cost a second copy of the model in RSS.
at::Tensor param(torch::nn::Module &m, const std::string &name, at::IntArrayRef shape) {
    return m.register_parameter(name, at::empty(shape, at::kFloat), /*requires_grad=*/false);
}

// Score-matrix budget per chunk (elements of B*H*chunk*L); ~256 MiB in float32.
constexpr int64_t max_score_elements = 64ll * 1024 * 1024;

}  // namespace

linear_m::linear_m(int64_t in, int64_t out) {
    weight = param(*this, "weight", {out, in});
    bias = param(*this, "bias", {out});
}

at::Tensor linear_m::operator()(const at::Tensor &x, fused::activation act) const {
    return fused::linear(x, weight, bias, act);
}

rms_norm_m::rms_norm_m(int64_t dim, double eps_) : eps(eps_) { weight = param(*this, "weight", {dim}); }

at::Tensor rms_norm_m::heads(const at::Tensor &x, int64_t n, const rope_grid *rope) const {
    // y = x * rsqrt(mean(x^2) + eps) * weight in float32, cast back to x's dtype, split into heads;
    // with `rope`, RoPE on the cast values (float32 tables), cast again.
    return rope ? fused::rms_norm_rope(x, weight, eps, n, rope->cos_even, rope->sin_odd)
                : fused::rms_norm_rope(x, weight, eps, n);
}

at::Tensor attention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v) {
    const int64_t B = q.size(0), S = q.size(1), H = q.size(2), D = q.size(3), L = k.size(1);
#if OMNIHOST_HAS_SDPA
    // diffusers' dispatch_attention_fn -> F.scaled_dot_product_attention: the fused kernel (flash on
    // CPU and CUDA) never holds the [S, L] scores; softmax accumulates in fp32 for bf16/fp16.
    if (models::sdpa_enabled()) {
        at::Tensor o = at::scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2));
        return o.transpose(1, 2).reshape({B, S, H * D});
    }
#endif
    // No SDPA (libtorch 1.13): the math path in query chunks that bound the score matrix.
    const double sqrt_scale = std::sqrt(1.0 / std::sqrt(static_cast<double>(D)));
    at::Tensor qh = q.permute({0, 2, 1, 3}) * sqrt_scale;              // [B,H,S,D]
    at::Tensor kt = k.permute({0, 2, 3, 1}) * sqrt_scale;              // [B,H,D,L]
    at::Tensor vh = v.permute({0, 2, 1, 3});                           // [B,H,L,D]
    const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(S, max_score_elements / std::max<int64_t>(1, B * H * L)));
    auto one = [&](const at::Tensor &qc) {
        at::Tensor scores = at::matmul(qc, kt);                        // [B,H,c,L]
        // softmax in fp32 (for bf16/fp16 scores too), probabilities in the scores' dtype.
        at::Tensor probs = fused::softmax_lastdim(scores, scores.scalar_type());
        return at::matmul(probs, vh);                                  // [B,H,c,D]
    };
    at::Tensor out;
    if (chunk >= S) {
        out = one(qh);
    } else {
        out = at::empty({B, H, S, D}, q.options());
        for (int64_t s0 = 0; s0 < S; s0 += chunk) {
            const int64_t s1 = std::min(S, s0 + chunk);
            out.slice(2, s0, s1).copy_(one(qh.slice(2, s0, s1)));
        }
    }
    return out.permute({0, 2, 1, 3}).reshape({B, S, H * D});
}

fp32_layer_norm_m::fp32_layer_norm_m(int64_t dim, double eps_) : eps(eps_) {
    weight = param(*this, "weight", {dim});
    bias = param(*this, "bias", {dim});
}

at::Tensor fp32_layer_norm_m::operator()(const at::Tensor &x) const {
    return fused::layer_norm_modulate(x, weight, bias, eps, {}, {}, x.scalar_type());
}

image_embedder_m::image_embedder_m(int64_t in, int64_t out, std::optional<int64_t> pos_len) {
    // FP32LayerNorm(in) / FP32LayerNorm(out): nn.LayerNorm's default eps (1e-5), with affine.
    norm1 = register_module("norm1", std::make_shared<fp32_layer_norm_m>(in, 1e-5));
    auto ff = register_module("ff", std::make_shared<torch::nn::Module>());
    auto net = ff->register_module("net", std::make_shared<torch::nn::Module>());
    auto net0 = net->register_module("0", std::make_shared<torch::nn::Module>());
    ff_proj = net0->register_module("proj", std::make_shared<linear_m>(in, in));  // FeedForward(mult=1)
    ff_out = net->register_module("2", std::make_shared<linear_m>(in, out));
    norm2 = register_module("norm2", std::make_shared<fp32_layer_norm_m>(out, 1e-5));
    if (pos_len) pos_embed = param(*this, "pos_embed", {1, *pos_len, in});
}

at::Tensor image_embedder_m::operator()(const at::Tensor &image_embeds) const {
    at::Tensor x = image_embeds;
    if (pos_embed.defined()) {
        const int64_t s = x.size(1), d = x.size(2);
        x = x.view({-1, 2 * s, d}) + pos_embed;
    }
    x = (*norm1)(x);
    x = (*ff_out)((*ff_proj)(x, fused::activation::gelu_erf));
    return (*norm2)(x);
}

attention_m::attention_m(int64_t dim, int64_t heads_, double eps, std::optional<int64_t> added_kv) : heads(heads_) {
    to_q = register_module("to_q", std::make_shared<linear_m>(dim, dim));
    to_k = register_module("to_k", std::make_shared<linear_m>(dim, dim));
    to_v = register_module("to_v", std::make_shared<linear_m>(dim, dim));
    auto to_out = register_module("to_out", std::make_shared<torch::nn::Module>());
    to_out0 = to_out->register_module("0", std::make_shared<linear_m>(dim, dim));
    norm_q = register_module("norm_q", std::make_shared<rms_norm_m>(dim, eps));
    norm_k = register_module("norm_k", std::make_shared<rms_norm_m>(dim, eps));
    if (added_kv) {
        add_k_proj = register_module("add_k_proj", std::make_shared<linear_m>(*added_kv, dim));
        add_v_proj = register_module("add_v_proj", std::make_shared<linear_m>(*added_kv, dim));
        norm_added_k = register_module("norm_added_k", std::make_shared<rms_norm_m>(dim, eps));
    }
}

at::Tensor attention_m::self_attention(const at::Tensor &x, const rope_grid &rope) const {
    at::Tensor q = norm_q->heads((*to_q)(x), heads, &rope);
    at::Tensor k = norm_k->heads((*to_k)(x), heads, &rope);
    at::Tensor v = (*to_v)(x).unflatten(2, {heads, -1});
    at::Tensor o = attention(q, k, v).to(q.scalar_type());
    return (*to_out0)(o);
}

std::pair<at::Tensor, at::Tensor> attention_m::context_kv(const at::Tensor &context) const {
    at::Tensor k = norm_k->heads((*to_k)(context), heads);
    at::Tensor v = (*to_v)(context).unflatten(2, {heads, -1});
    return {k, v};
}

std::pair<at::Tensor, at::Tensor> attention_m::image_kv(const at::Tensor &image) const {
    at::Tensor k = norm_added_k->heads((*add_k_proj)(image), heads);
    at::Tensor v = (*add_v_proj)(image).unflatten(2, {heads, -1});
    return {k, v};
}

at::Tensor attention_m::cross_attention(const at::Tensor &x, const at::Tensor &k, const at::Tensor &v,
                                        const at::Tensor &img_k, const at::Tensor &img_v) const {
    at::Tensor q = norm_q->heads((*to_q)(x), heads);
    at::Tensor o = attention(q, k, v).to(q.scalar_type());
    if (img_k.defined()) o = o + attention(q, img_k, img_v).to(q.scalar_type());
    return (*to_out0)(o);
}

block_m::block_m(const wan_transformer_config &cfg) : eps(cfg.eps) {
    const int64_t d = cfg.inner_dim();
    attn1 = register_module("attn1", std::make_shared<attention_m>(d, cfg.num_attention_heads, cfg.eps));
    attn2 = register_module("attn2",
                            std::make_shared<attention_m>(d, cfg.num_attention_heads, cfg.eps, cfg.added_kv_proj_dim));
    if (cfg.cross_attn_norm) {
        auto norm2 = register_module("norm2", std::make_shared<torch::nn::Module>());
        norm2_weight = param(*norm2, "weight", {d});
        norm2_bias = param(*norm2, "bias", {d});
    }
    auto ffn = register_module("ffn", std::make_shared<torch::nn::Module>());
    auto net = ffn->register_module("net", std::make_shared<torch::nn::Module>());
    auto net0 = net->register_module("0", std::make_shared<torch::nn::Module>());
    ffn_proj = net0->register_module("proj", std::make_shared<linear_m>(d, cfg.ffn_dim));
    ffn_out = net->register_module("2", std::make_shared<linear_m>(cfg.ffn_dim, d));
    scale_shift_table = param(*this, "scale_shift_table", {1, 6, d});
}

at::Tensor block_m::forward(const at::Tensor &x_in, const at::Tensor &text_k, const at::Tensor &text_v,
                            const at::Tensor &temb_proj, const rope_grid &rope, const at::Tensor &img_k,
                            const at::Tensor &img_v) const {
    const auto dtype = x_in.scalar_type();
    // Modulation (fp32): table + temb_proj.float(), chunked into shift, scale, gate, c_shift, c_scale, c_gate.
    std::vector<at::Tensor> mod;
    if (temb_proj.dim() == 4) {
        mod = (scale_shift_table.unsqueeze(0) + temb_proj.to(at::kFloat)).chunk(6, 2);
        for (auto &m : mod) m = m.squeeze(2);  // [B, N, d]
    } else {
        mod = (scale_shift_table + temb_proj.to(at::kFloat)).chunk(6, 1);  // [B, 1, d]
    }
    const at::Tensor &shift_msa = mod[0], &scale_msa = mod[1], &gate_msa = mod[2];
    const at::Tensor &c_shift = mod[3], &c_scale = mod[4], &c_gate = mod[5];

    // 1. Self-attention; residual in fp32: (x.float() + attn * gate).to(dtype).
    const at::Tensor one_plus_scale_msa = 1 + scale_msa, one_plus_c_scale = 1 + c_scale;
    at::Tensor h = fused::layer_norm_modulate(x_in, {}, {}, eps, one_plus_scale_msa, shift_msa, dtype);
    at::Tensor a = attn1->self_attention(h, rope);
    at::Tensor x = fused::gated_residual(x_in, a, gate_msa, dtype);

    // 2. Cross-attention (no gate, no mask); residual in the model dtype.
    h = norm2_weight.defined() ? fused::layer_norm_modulate(x, norm2_weight, norm2_bias, eps, {}, {}, dtype) : x;
    x = x + attn2->cross_attention(h, text_k, text_v, img_k, img_v);

    // 3. Feed-forward (GELU tanh); residual in fp32.
    h = fused::layer_norm_modulate(x, {}, {}, eps, one_plus_c_scale, c_shift, dtype);
    at::Tensor f = (*ffn_out)((*ffn_proj)(h, fused::activation::gelu_tanh));
    return fused::gated_residual(x, f, c_gate, dtype);
}

transformer_m::transformer_m(const wan_transformer_config &c) : cfg(c) {
    const int64_t d = cfg.inner_dim();
    const auto &p = cfg.patch_size;
    auto pe = register_module("patch_embedding", std::make_shared<torch::nn::Module>());
    patch_weight = param(*pe, "weight", {d, cfg.in_channels, p[0], p[1], p[2]});
    patch_bias = param(*pe, "bias", {d});

    auto ce = register_module("condition_embedder", std::make_shared<torch::nn::Module>());
    auto te = ce->register_module("time_embedder", std::make_shared<torch::nn::Module>());
    time_linear_1 = te->register_module("linear_1", std::make_shared<linear_m>(cfg.freq_dim, d));
    time_linear_2 = te->register_module("linear_2", std::make_shared<linear_m>(d, d));
    time_proj = ce->register_module("time_proj", std::make_shared<linear_m>(d, 6 * d));
    auto tx = ce->register_module("text_embedder", std::make_shared<torch::nn::Module>());
    text_linear_1 = tx->register_module("linear_1", std::make_shared<linear_m>(cfg.text_dim, d));
    text_linear_2 = tx->register_module("linear_2", std::make_shared<linear_m>(d, d));
    if (cfg.image_dim)
        image_embedder = ce->register_module(
            "image_embedder", std::make_shared<image_embedder_m>(*cfg.image_dim, d, cfg.pos_embed_seq_len));

    auto bl = register_module("blocks", std::make_shared<torch::nn::Module>());
    for (int64_t i = 0; i < cfg.num_layers; ++i)
        blocks.push_back(bl->register_module(std::to_string(i), std::make_shared<block_m>(cfg)));

    proj_out = register_module("proj_out", std::make_shared<linear_m>(d, cfg.out_channels * cfg.patch_volume()));
    scale_shift_table = param(*this, "scale_shift_table", {1, 2, d});

    // RoPE tables (WanRotaryPosEmbed): per sub-dim D, freq_k = 1 / 10000^(2k/D) in float64,
    // angle = pos * freq, cos/sin repeated pairwise, cast to float32; concatenated t | h | w.
    const rope_split split = wan_rope_split(cfg.attention_head_dim);
    at::Tensor pos = at::arange(cfg.rope_max_seq_len, at::kLong);
    std::vector<at::Tensor> cs, ss;
    for (int64_t dim : {split.t, split.h, split.w}) {
        at::Tensor exps = at::arange(0, dim, 2, at::kDouble).slice(0, 0, dim / 2) / dim;
        at::Tensor freqs = 1.0 / at::pow(10000.0, exps) / 1.0;
        at::Tensor ang = at::outer(pos, freqs);
        cs.push_back(ang.cos().repeat_interleave(2, 1).to(at::kFloat));
        ss.push_back(ang.sin().repeat_interleave(2, 1).to(at::kFloat));
    }
    rope_cos = at::cat(cs, 1);
    rope_sin = at::cat(ss, 1);
}

rope_grid transformer_m::rope_for(int64_t f, int64_t h, int64_t w) const {
    const int64_t hd = cfg.attention_head_dim;
    const rope_split rs = wan_rope_split(hd);
    const std::vector<int64_t> split{rs.t, rs.h, rs.w};
    auto grid = [&](const at::Tensor &table) {
        auto parts = table.split_with_sizes(split, 1);
        at::Tensor tf = parts[0].slice(0, 0, f).view({f, 1, 1, -1}).expand({f, h, w, -1});
        at::Tensor th = parts[1].slice(0, 0, h).view({1, h, 1, -1}).expand({f, h, w, -1});
        at::Tensor tw = parts[2].slice(0, 0, w).view({1, 1, w, -1}).expand({f, h, w, -1});
        return at::cat({tf, th, tw}, -1).reshape({1, f * h * w, 1, hd});
    };
    rope_grid r;
    r.cos_even = grid(rope_cos).slice(-1, 0, c10::nullopt, 2).contiguous();
    r.sin_odd = grid(rope_sin).slice(-1, 1, c10::nullopt, 2).contiguous();
    return r;
}

}  // namespace omnihost::models::wan::detail
