#include "umt5/umt5_modules.h"

#include "core/safetensors.h"

#include <cmath>
#include <limits>

namespace omnihost::models::umt5_detail {

at::Tensor placeholder(at::IntArrayRef shape, c10::ScalarType dtype) {
    // All-zero strides: one element of storage, the right sizes, and not a view of anything.
    return at::empty_strided(shape, std::vector<int64_t>(shape.size(), 0), at::TensorOptions().dtype(dtype));
}

t5_linear_impl::t5_linear_impl(int64_t in, int64_t out, const precision &p) : compute(p.compute) {
    weight = register_parameter("weight", placeholder({out, in}, p.storage), /*requires_grad=*/false);
}

at::Tensor t5_linear_impl::forward(const at::Tensor &x) { return at::linear(x, for_compute(weight, compute)); }

t5_embedding_impl::t5_embedding_impl(int64_t num, int64_t dim, const precision &p) : compute(p.compute) {
    weight = register_parameter("weight", placeholder({num, dim}, p.storage), /*requires_grad=*/false);
}

// Gather first, then upcast: the same values as upcasting the whole table, without copying it.
at::Tensor t5_embedding_impl::forward(const at::Tensor &ids) {
    return for_compute(at::embedding(weight, ids), compute);
}

t5_layer_norm_impl::t5_layer_norm_impl(int64_t dim, double eps_, const precision &p) : eps(eps_), compute(p.compute) {
    weight = register_parameter("weight", placeholder({dim}, p.storage), /*requires_grad=*/false);
}

at::Tensor t5_layer_norm_impl::forward(const at::Tensor &h) {
    // Variance accumulates in fp32 whatever the input dtype; no mean subtraction, no bias.
    const auto variance = h.to(at::kFloat).pow(2).mean(-1, /*keepdim=*/true);
    auto normed = h * at::rsqrt(variance + eps);
    const auto w = for_compute(weight, compute);
    if (w.scalar_type() == at::kHalf || w.scalar_type() == at::kBFloat16) normed = normed.to(w.scalar_type());
    return w * normed;
}

at::Tensor relative_position_bucket(const at::Tensor &relative_position, int64_t num_buckets, int64_t max_distance) {
    // Bidirectional: half of the buckets for keys after the query, half for keys before it.
    const int64_t half = num_buckets / 2;
    auto buckets = (relative_position > 0).to(at::kLong) * half;
    const auto distance = at::abs(relative_position);
    // Below max_exact one bucket per offset; above it logarithmic bins up to max_distance.
    const int64_t max_exact = half / 2;
    const auto is_small = distance < max_exact;
    auto log_ratio = at::log(distance.to(at::kFloat) / max_exact) /
                     std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact));
    log_ratio = log_ratio * (half - max_exact);
    auto if_large = max_exact + log_ratio.to(at::kLong);
    if_large = at::minimum(if_large, at::full_like(if_large, half - 1));
    return buckets + at::where(is_small, distance, if_large);
}

t5_attention_impl::t5_attention_impl(const umt5_config &c, bool has_relative_bias, const precision &p)
    : heads(c.num_heads),
      d_kv(c.d_kv),
      num_buckets(c.relative_attention_num_buckets),
      max_distance(c.relative_attention_max_distance) {
    const int64_t inner = c.num_heads * c.d_kv;
    q = register_module("q", t5_linear(c.d_model, inner, p));
    k = register_module("k", t5_linear(c.d_model, inner, p));
    v = register_module("v", t5_linear(c.d_model, inner, p));
    o = register_module("o", t5_linear(inner, c.d_model, p));
    if (has_relative_bias) {
        relative_attention_bias =
            register_module("relative_attention_bias", t5_embedding(c.relative_attention_num_buckets, c.num_heads, p));
    }
}

at::Tensor t5_attention_impl::compute_bias(int64_t q_len, int64_t k_len) {
    const auto opts = at::TensorOptions().dtype(at::kLong).device(relative_attention_bias->weight.device());
    const auto context_position = at::arange(q_len, opts).unsqueeze(1);
    const auto memory_position = at::arange(k_len, opts).unsqueeze(0);
    const auto bucket = relative_position_bucket(memory_position - context_position, num_buckets, max_distance);
    const auto values = relative_attention_bias->forward(bucket);  // [q, k, heads]
    return values.permute({2, 0, 1}).unsqueeze(0);
}

at::Tensor t5_attention_impl::forward(const at::Tensor &h, const at::Tensor &bias_plus_mask) {
    const int64_t batch = h.size(0);
    const int64_t len = h.size(1);
    auto split_heads = [&](const at::Tensor &x) { return x.view({batch, -1, heads, d_kv}).permute({0, 2, 1, 3}); };
    const auto key = split_heads(k(h));
    const auto value = split_heads(v(h));
    const auto query = split_heads(q(h));
    // No 1/sqrt(d_kv): T5 folds it into the initialisation.
    auto scores = at::matmul(query, key.transpose(-1, -2));
    scores += bias_plus_mask;
    const auto weights = at::softmax(scores.to(at::kFloat), -1).to(scores.scalar_type());
    const auto context = at::matmul(weights, value).permute({0, 2, 1, 3}).contiguous().view({batch, len, -1});
    return o(context);
}

t5_layer_self_attention_impl::t5_layer_self_attention_impl(const umt5_config &c, bool has_relative_bias,
                                                           const precision &p) {
    SelfAttention = register_module("SelfAttention", t5_attention(c, has_relative_bias, p));
    layer_norm = register_module("layer_norm", t5_layer_norm(c.d_model, c.layer_norm_epsilon, p));
}

at::Tensor t5_layer_self_attention_impl::forward(const at::Tensor &h, const at::Tensor &bias_plus_mask) {
    return h + SelfAttention(layer_norm(h), bias_plus_mask);
}

t5_dense_impl::t5_dense_impl(const umt5_config &c, const precision &p) : gated(c.is_gated_act), act(c.dense_act_fn) {
    if (gated) {
        wi_0 = register_module("wi_0", t5_linear(c.d_model, c.d_ff, p));
        wi_1 = register_module("wi_1", t5_linear(c.d_model, c.d_ff, p));
    } else {
        wi = register_module("wi", t5_linear(c.d_model, c.d_ff, p));
    }
    wo = register_module("wo", t5_linear(c.d_ff, c.d_model, p));
}

namespace {

at::Tensor activation(const std::string &name, const at::Tensor &x) {
    if (name == "gelu_new") {
        // transformers' NewGELUActivation, op for op (differs from at::gelu(x, "tanh") in the last bits).
        const double k = std::sqrt(2.0 / M_PI);
        return 0.5 * x * (1.0 + at::tanh(k * (x + 0.044715 * at::pow(x, 3.0))));
    }
    if (name == "gelu_pytorch_tanh") return at::gelu(x, "tanh");
    if (name == "gelu") return at::gelu(x);
    return at::relu(x);  // config parsing admits nothing else
}

}  // namespace

at::Tensor t5_dense_impl::forward(const at::Tensor &h) {
    at::Tensor x = gated ? activation(act, wi_0(h)) * wi_1(h) : activation(act, wi(h));
    // wo may be kept in fp32 while the rest is bf16 (transformers' _keep_in_fp32_modules).
    const auto wo_dtype = for_compute(wo->weight, wo->compute).scalar_type();
    if (x.scalar_type() != wo_dtype) x = x.to(wo_dtype);
    return wo(x);
}

t5_layer_ff_impl::t5_layer_ff_impl(const umt5_config &c, const precision &p) {
    DenseReluDense = register_module("DenseReluDense", t5_dense(c, p));
    layer_norm = register_module("layer_norm", t5_layer_norm(c.d_model, c.layer_norm_epsilon, p));
}

at::Tensor t5_layer_ff_impl::forward(const at::Tensor &h) { return h + DenseReluDense(layer_norm(h)); }

t5_block_impl::t5_block_impl(const umt5_config &c, bool has_relative_bias, const precision &p) {
    self_attention = t5_layer_self_attention(c, has_relative_bias, p);
    feed_forward = t5_layer_ff(c, p);
    layer = register_module("layer", torch::nn::ModuleList(self_attention, feed_forward));
}

at::Tensor t5_block_impl::forward(const at::Tensor &h, const at::Tensor &bias_plus_mask) {
    return feed_forward(self_attention(h, bias_plus_mask));
}

t5_stack_impl::t5_stack_impl(const umt5_config &c, bool own_embedding, const precision &p) {
    block = register_module("block", torch::nn::ModuleList());
    for (int64_t i = 0; i < c.num_layers; ++i) {
        blocks.push_back(t5_block(c, c.per_layer_relative_bias || i == 0, p));
        block->push_back(blocks.back());
    }
    final_layer_norm = register_module("final_layer_norm", t5_layer_norm(c.d_model, c.layer_norm_epsilon, p));
    if (own_embedding) embed_tokens = register_module("embed_tokens", t5_embedding(c.vocab_size, c.d_model, p));
}

encoder_model_impl::encoder_model_impl(const umt5_config &c, embedding_key key, const precision &p) : config(c) {
    if (key == embedding_key::shared) shared = register_module("shared", t5_embedding(c.vocab_size, c.d_model, p));
    encoder = register_module("encoder", t5_stack(c, key == embedding_key::encoder_embed_tokens, p));
}

at::Tensor encoder_model_impl::forward(const at::Tensor &input_ids, const at::Tensor &attention_mask) {
    auto embedding = shared ? shared : encoder->embed_tokens;
    at::Tensor h = embedding(input_ids.to(at::kLong));
    const int64_t len = h.size(1);

    // Additive mask in the embedding dtype: (1 - mask) * finfo(dtype).min, shape [B, 1, 1, L].
    const double lowest = h.scalar_type() == at::kBFloat16 ? static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest())
                                                           : static_cast<double>(std::numeric_limits<float>::lowest());
    const auto extended = (1.0 - attention_mask.unsqueeze(1).unsqueeze(2).to(h.scalar_type())) * lowest;

    at::Tensor shared_bias;  // T5: block 0's bias (+ mask) serves every layer
    for (size_t i = 0; i < encoder->blocks.size(); ++i) {
        auto &blk = encoder->blocks[i];
        at::Tensor bias_plus_mask;
        if (config.per_layer_relative_bias) {
            bias_plus_mask = blk->self_attention->SelfAttention->compute_bias(len, len) + extended;
        } else {
            if (!shared_bias.defined()) {
                shared_bias = encoder->blocks[0]->self_attention->SelfAttention->compute_bias(len, len) + extended;
            }
            bias_plus_mask = shared_bias;
        }
        h = blk->forward(h, bias_plus_mask);
    }
    return encoder->final_layer_norm(h);
}

}  // namespace omnihost::models::umt5_detail
