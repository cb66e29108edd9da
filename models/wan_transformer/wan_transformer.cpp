#include "wan_transformer/wan_transformer.h"

#include "core/safetensors.h"
#include "wan_transformer/wan_modules.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <cmath>
#include <sstream>

namespace omnihost::models::wan {
namespace {

std::string shape_str(at::IntArrayRef s) {
    std::ostringstream o;
    o << "[";
    for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
    o << "]";
    return o.str();
}

[[noreturn]] void bad_arg(const std::string &arg, const std::string &msg) {
    throw model_error("WanTransformer3DModel.forward: " + arg + " " + msg);
}

void check_dtype(c10::ScalarType t) {
    if (t != c10::kFloat && t != c10::kBFloat16)
        throw model_error("dtype: WanTransformer3DModel supports fp32 and bf16, not " + std::string(c10::toString(t)));
}

// Sinusoidal timestep embedding (Timesteps(freq_dim, flip_sin_to_cos=True, downscale_freq_shift=0)):
// [cos, sin] of t * exp(-ln(10000) * k / half), float32.
at::Tensor timestep_embedding(const at::Tensor &t, int64_t dim) {
    const int64_t half = dim / 2;
    at::Tensor exponent = -std::log(10000.0) * at::arange(0, half, at::TensorOptions().dtype(at::kFloat).device(t.device()));
    exponent = exponent / half;
    at::Tensor freqs = at::exp(exponent);
    at::Tensor e = t.unsqueeze(1).to(at::kFloat) * freqs.unsqueeze(0);
    return at::cat({at::cos(e), at::sin(e)}, -1);
}

}  // namespace

const std::vector<std::string> &wan_transformer::keep_in_fp32_modules() {
    static const std::vector<std::string> names{"time_embedder", "scale_shift_table", "norm1", "norm2", "norm3"};
    return names;
}

wan_transformer wan_transformer::load(const std::filesystem::path &dir, const wan_load_options &opts) {
    const auto cfg = wan_transformer_config::from_file(dir / "config.json");
    return load(cfg, tensor_store::open(dir), opts);
}

wan_transformer wan_transformer::load(const wan_transformer_config &cfg, const tensor_store &weights,
                                      const wan_load_options &opts) {
    check_dtype(opts.dtype);
    cfg.validate("config");
    wan_transformer t;
    t.m_ = std::make_shared<detail::transformer_m>(cfg);
    load_options lo;
    lo.dtype = opts.dtype;
    lo.device = opts.device;
    lo.keep_fp32 = keep_in_fp32_modules();
    // diffusers' _keys_to_ignore_on_load_unexpected: some I2V checkpoints carry an unused norm_added_q.
    if (cfg.added_kv_proj_dim) lo.ignore_unexpected = {"norm_added_q"};
    load_module(*t.m_, weights, lo);
    t.m_->rope_cos = t.m_->rope_cos.to(opts.device);
    t.m_->rope_sin = t.m_->rope_sin.to(opts.device);
    t.dtype_ = opts.dtype;
    t.device_ = opts.device;
    return t;
}

wan_transformer wan_transformer::random(const wan_transformer_config &cfg, uint64_t seed, const wan_load_options &opts,
                                        double std) {
    check_dtype(opts.dtype);
    cfg.validate("config");
    wan_transformer t;
    t.m_ = std::make_shared<detail::transformer_m>(cfg);
    torch::NoGradGuard no_grad;
    auto gen = at::detail::createCPUGenerator(seed);
    const auto &keep = keep_in_fp32_modules();
    for (auto &kv : t.m_->named_parameters(true)) {
        at::Tensor v = at::normal(0.0, std, kv.value().sizes(), gen);
        bool fp32 = false;
        for (const auto &k : keep)
            if (("." + kv.key() + ".").find("." + k + ".") != std::string::npos) fp32 = true;
        kv.value().set_data(v.to(opts.device, fp32 ? at::kFloat : opts.dtype));
    }
    t.m_->rope_cos = t.m_->rope_cos.to(opts.device);
    t.m_->rope_sin = t.m_->rope_sin.to(opts.device);
    t.dtype_ = opts.dtype;
    t.device_ = opts.device;
    return t;
}

const wan_transformer_config &wan_transformer::config() const { return m_->cfg; }

void wan_transformer::to(c10::Device device) {
    if (device == device_) return;
    torch::NoGradGuard no_grad;
    for (auto &p : m_->parameters(true)) p.set_data(p.to(device));
    m_->rope_cos = m_->rope_cos.to(device);
    m_->rope_sin = m_->rope_sin.to(device);
    device_ = device;
}

void wan_transformer::to_except_blocks(c10::Device device) {
    torch::NoGradGuard no_grad;
    for (const auto &item : m_->named_parameters(true))
        if (item.key().rfind("blocks.", 0) != 0) item.value().set_data(item.value().to(device));
    m_->rope_cos = m_->rope_cos.to(device);
    m_->rope_sin = m_->rope_sin.to(device);
    device_ = device;
}

void wan_transformer::block_to(size_t block, c10::Device device) {
    torch::NoGradGuard no_grad;
    for (auto &p : m_->blocks.at(block)->parameters(true)) p.set_data(p.to(device));
}

size_t wan_transformer::num_blocks() const { return m_->blocks.size(); }

int64_t wan_transformer::num_parameters() const {
    int64_t n = 0;
    for (const auto &p : m_->parameters(true)) n += p.numel();
    return n;
}

std::vector<std::pair<std::string, at::Tensor>> wan_transformer::named_parameters() const {
    std::vector<std::pair<std::string, at::Tensor>> out;
    for (const auto &kv : m_->named_parameters(true)) out.emplace_back(kv.key(), kv.value());
    return out;
}

std::shared_ptr<const wan_text_context> wan_transformer::encode_text(const at::Tensor &ehs) const {
    return encode_context(ehs, std::nullopt);
}

std::shared_ptr<const wan_text_context> wan_transformer::encode_context(const at::Tensor &ehs,
                                                                        const std::optional<at::Tensor> &image) const {
    const auto &cfg = m_->cfg;
    if (cfg.image_dim && !image)
        bad_arg("encoder_hidden_states_image", "is required: this transformer has an image embedder (image_dim " +
                                                   std::to_string(*cfg.image_dim) + ")");
    if (!cfg.image_dim && image)
        bad_arg("encoder_hidden_states_image", "was given, but this transformer has no image embedder (image_dim is null)");
    if (image) {
        const at::Tensor &im = *image;
        if (im.dim() != 3 || im.size(2) != *cfg.image_dim)
            bad_arg("encoder_hidden_states_image", "must be [B, S, " + std::to_string(*cfg.image_dim) + "], got " +
                                                       shape_str(im.sizes()));
        if (cfg.pos_embed_seq_len) {
            if (2 * im.size(1) != *cfg.pos_embed_seq_len || im.size(0) % 2 != 0)
                bad_arg("encoder_hidden_states_image",
                        "must be image pairs [2B, " + std::to_string(*cfg.pos_embed_seq_len / 2) + ", " +
                            std::to_string(*cfg.image_dim) + "] for this first-last-frame transformer (pos_embed_seq_len " +
                            std::to_string(*cfg.pos_embed_seq_len) + "), got " + shape_str(im.sizes()));
        }
        const int64_t batches = cfg.pos_embed_seq_len ? im.size(0) / 2 : im.size(0);
        if (ehs.dim() == 3 && batches != ehs.size(0))
            bad_arg("encoder_hidden_states_image", "batch " + shape_str(im.sizes()) +
                                                       " does not match encoder_hidden_states " + shape_str(ehs.sizes()));
        // diffusers joins image and text and splits them again at (length - 512).
        if (ehs.dim() == 3 && ehs.size(1) != 512)
            bad_arg("encoder_hidden_states", "must have 512 tokens with an image context (diffusers splits the image "
                                             "tokens off at length - 512), got " + std::to_string(ehs.size(1)));
    }
    if (ehs.dim() != 3 || ehs.size(2) != cfg.text_dim)
        bad_arg("encoder_hidden_states", "must be [B, L, " + std::to_string(cfg.text_dim) + "], got " + shape_str(ehs.sizes()));
    c10::InferenceMode guard;
    auto ctx = std::make_shared<wan_text_context>();
    at::Tensor text = ehs.to(device_, dtype_);
    // PixArtAlphaTextProjection: linear_1 -> GELU(tanh) -> linear_2.
    ctx->text = (*m_->text_linear_2)((*m_->text_linear_1)(text, fused::activation::gelu_tanh));
    if (image) ctx->image = (*m_->image_embedder)(image->to(device_, dtype_));
    ctx->kv.reserve(m_->blocks.size());
    if (image) ctx->image_kv.reserve(m_->blocks.size());
    for (size_t i = 0; i < m_->blocks.size(); ++i) {
        if (block_hook_) block_hook_(i, true);
        ctx->kv.push_back(m_->blocks[i]->attn2->context_kv(ctx->text));
        if (image) ctx->image_kv.push_back(m_->blocks[i]->attn2->image_kv(ctx->image));
        if (block_hook_) block_hook_(i, false);
    }
    return ctx;
}

at::Tensor wan_transformer::forward(const at::Tensor &hidden_states, const at::Tensor &timestep,
                                    const at::Tensor &encoder_hidden_states,
                                    const std::optional<at::Tensor> &encoder_hidden_states_image) const {
    return forward(hidden_states, timestep, *encode_context(encoder_hidden_states, encoder_hidden_states_image));
}

at::Tensor wan_transformer::forward(const at::Tensor &hidden_states, const at::Tensor &timestep,
                                    const wan_text_context &text) const {
    const auto &cfg = m_->cfg;
    const auto &p = cfg.patch_size;
    if (hidden_states.dim() != 5 || hidden_states.size(1) != cfg.in_channels)
        bad_arg("hidden_states", "must be [B, " + std::to_string(cfg.in_channels) + ", F, H, W], got " +
                                     shape_str(hidden_states.sizes()));
    const int64_t B = hidden_states.size(0), F = hidden_states.size(2), H = hidden_states.size(3), W = hidden_states.size(4);
    if (F % p[0] || H % p[1] || W % p[2])
        bad_arg("hidden_states", "frames/height/width " + shape_str({F, H, W}) + " must be multiples of patch_size " +
                                     shape_str(p));
    const int64_t pf = F / p[0], ph = H / p[1], pw = W / p[2], N = pf * ph * pw;
    if (pf > cfg.rope_max_seq_len || ph > cfg.rope_max_seq_len || pw > cfg.rope_max_seq_len)
        bad_arg("hidden_states", "post-patch grid " + shape_str({pf, ph, pw}) + " exceeds rope_max_seq_len " +
                                     std::to_string(cfg.rope_max_seq_len));
    const bool per_token = timestep.dim() == 2;
    if (!(timestep.dim() == 1 && timestep.size(0) == B) && !(per_token && timestep.size(0) == B && timestep.size(1) == N))
        bad_arg("timestep", "must be [" + std::to_string(B) + "] or [" + std::to_string(B) + ", " + std::to_string(N) +
                                "], got " + shape_str(timestep.sizes()));
    if (text.kv.size() != m_->blocks.size() || !text.text.defined() || text.text.size(0) != B)
        bad_arg("encoder_hidden_states", "batch/context does not match hidden_states (batch " + std::to_string(B) + ")");
    const bool has_image = text.image.defined();
    if (has_image != cfg.image_dim.has_value() || (has_image && (text.image_kv.size() != m_->blocks.size() ||
                                                                 text.image.size(0) != B)))
        bad_arg("encoder_hidden_states_image", cfg.image_dim ? "context is missing or does not match the batch"
                                                             : "was given, but this transformer has no image embedder");

    c10::InferenceMode guard;
    const int64_t d = cfg.inner_dim();
    const detail::rope_grid rope = m_->rope_for(pf, ph, pw);

    // Patch embedding: Conv3d(kernel = stride = patch) -> [B, N, d].
    at::Tensor x = at::conv3d(hidden_states.to(device_, dtype_), m_->patch_weight, m_->patch_bias,
                              {p[0], p[1], p[2]}, {0, 0, 0});
    x = x.flatten(2).transpose(1, 2).contiguous();  // row-major tokens for the blocks' fused row kernels

    // Condition embedder: timestep embedding in fp32 through the fp32 time_embedder, temb cast to
    // the text dtype, then time_proj(SiLU(temb)).
    at::Tensor t_emb = timestep_embedding(timestep.to(device_).flatten(), cfg.freq_dim);
    if (per_token) t_emb = t_emb.unflatten(0, {B, N});
    at::Tensor temb = (*m_->time_linear_2)(at::silu((*m_->time_linear_1)(t_emb))).to(text.text.scalar_type());
    at::Tensor temb_proj = (*m_->time_proj)(at::silu(temb));
    temb_proj = per_token ? temb_proj.unflatten(2, {6, d}) : temb_proj.unflatten(1, {6, d});

    for (size_t i = 0; i < m_->blocks.size(); ++i) {
        if (block_hook_) block_hook_(i, true);
        x = has_image ? m_->blocks[i]->forward(x, text.kv[i].first, text.kv[i].second, temb_proj, rope,
                                               text.image_kv[i].first, text.image_kv[i].second)
                      : m_->blocks[i]->forward(x, text.kv[i].first, text.kv[i].second, temb_proj, rope);
        if (block_hook_) block_hook_(i, false);
    }

    // Output head: (table + temb) -> shift, scale (temb, not temb_proj), fp32 LayerNorm, proj_out.
    at::Tensor shift, scale;
    if (per_token) {
        auto ss = (m_->scale_shift_table.unsqueeze(0) + temb.unsqueeze(2)).chunk(2, 2);
        shift = ss[0].squeeze(2);
        scale = ss[1].squeeze(2);
    } else {
        auto ss = (m_->scale_shift_table + temb.unsqueeze(1)).chunk(2, 1);
        shift = ss[0];
        scale = ss[1];
    }
    x = fused::layer_norm_modulate(x, {}, {}, cfg.eps, 1 + scale, shift, x.scalar_type());
    x = (*m_->proj_out)(x);

    // Unpatchify: feature index ((pt*p_h + ph)*p_w + pw)*C_out + c.
    x = x.reshape({B, pf, ph, pw, p[0], p[1], p[2], -1}).permute({0, 7, 1, 4, 2, 5, 3, 6});
    return x.flatten(6, 7).flatten(4, 5).flatten(2, 3);
}

}  // namespace omnihost::models::wan
