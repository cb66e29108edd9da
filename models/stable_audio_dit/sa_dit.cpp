#include "stable_audio_dit/sa_dit.h"

#include "core/safetensors.h"
#include "stable_audio_dit/sa_dit_modules.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <cmath>
#include <sstream>

namespace omnihost::models::stable_audio {
namespace {

std::string shape_str(at::IntArrayRef s) {
    std::ostringstream o;
    o << "[";
    for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
    o << "]";
    return o.str();
}

[[noreturn]] void bad_arg(const std::string &arg, const std::string &msg) {
    throw model_error("StableAudioDiTModel.forward: " + arg + " " + msg);
}

void check_dtype(c10::ScalarType t, const char *model) {
    if (t != c10::kFloat && t != c10::kBFloat16)
        throw model_error(std::string("dtype: ") + model + " supports fp32 and bf16, not " + c10::toString(t));
}

}  // namespace

dit dit::load(const std::filesystem::path &dir, const load_opts &opts) {
    const auto cfg = dit_config::from_file(dir / "config.json");
    return load(cfg, tensor_store::open(dir), opts);
}

dit dit::load(const dit_config &cfg, const tensor_store &weights, const load_opts &opts) {
    check_dtype(opts.dtype, "StableAudioDiTModel");
    cfg.validate("config");
    dit t;
    t.m_ = std::make_shared<detail::dit_m>(cfg);
    load_options lo;
    lo.dtype = opts.dtype;
    lo.device = opts.device;
    load_module(*t.m_, weights, lo);
    t.dtype_ = opts.dtype;
    t.device_ = opts.device;
    return t;
}

dit dit::random(const dit_config &cfg, uint64_t seed, const load_opts &opts, double std) {
    check_dtype(opts.dtype, "StableAudioDiTModel");
    cfg.validate("config");
    dit t;
    t.m_ = std::make_shared<detail::dit_m>(cfg);
    torch::NoGradGuard no_grad;
    auto gen = at::detail::createCPUGenerator(seed);
    for (auto &kv : t.m_->named_parameters(true))
        kv.value().set_data(at::normal(0.0, std, kv.value().sizes(), gen).to(opts.device, opts.dtype));
    t.dtype_ = opts.dtype;
    t.device_ = opts.device;
    return t;
}

const dit_config &dit::config() const { return m_->cfg; }

void dit::to(c10::Device device) {
    if (device == device_) return;
    torch::NoGradGuard no_grad;
    for (auto &p : m_->parameters(true)) p.set_data(p.to(device));
    device_ = device;
}

int64_t dit::num_parameters() const {
    int64_t n = 0;
    for (const auto &p : m_->parameters(true)) n += p.numel();
    return n;
}

std::vector<std::pair<std::string, at::Tensor>> dit::named_parameters() const {
    std::vector<std::pair<std::string, at::Tensor>> out;
    for (const auto &kv : m_->named_parameters(true)) out.emplace_back(kv.key(), kv.value());
    return out;
}

std::shared_ptr<const dit_conditioning> dit::encode_conditioning(const at::Tensor &ehs, const at::Tensor &ghs) const {
    const auto &cfg = m_->cfg;
    if (ehs.dim() != 3 || ehs.size(2) != cfg.cross_attention_input_dim)
        bad_arg("encoder_hidden_states",
                "must be [B, S, " + std::to_string(cfg.cross_attention_input_dim) + "], got " + shape_str(ehs.sizes()));
    // diffusers drops exactly one prepended token after the blocks, so exactly one global token.
    if (ghs.dim() != 3 || ghs.size(0) != ehs.size(0) || ghs.size(1) != 1 || ghs.size(2) != cfg.global_states_input_dim)
        bad_arg("global_hidden_states", "must be [" + std::to_string(ehs.size(0)) + ", 1, " +
                                            std::to_string(cfg.global_states_input_dim) + "], got " +
                                            shape_str(ghs.sizes()));
    c10::InferenceMode guard;
    auto c = std::make_shared<dit_conditioning>();
    c->cross = (*m_->cross_attention_proj)(ehs.to(device_, dtype_));
    c->kv.reserve(m_->blocks.size());
    for (const auto &b : m_->blocks) c->kv.push_back(b->attn2->context_kv(c->cross));
    c->global = (*m_->global_proj)(ghs.to(device_, dtype_));
    return c;
}

at::Tensor dit::forward(const at::Tensor &hidden_states, const at::Tensor &timestep, const at::Tensor &ehs,
                        const at::Tensor &ghs, const rotary_table &rope) const {
    return forward(hidden_states, timestep, *encode_conditioning(ehs, ghs), rope);
}

at::Tensor dit::forward(const at::Tensor &hidden_states, const at::Tensor &timestep, const dit_conditioning &cond,
                        const rotary_table &rope) const {
    const auto &cfg = m_->cfg;
    if (hidden_states.dim() != 3 || hidden_states.size(1) != cfg.in_channels)
        bad_arg("hidden_states",
                "must be [B, " + std::to_string(cfg.in_channels) + ", L], got " + shape_str(hidden_states.sizes()));
    const int64_t B = hidden_states.size(0), L = hidden_states.size(2);
    if (timestep.dim() != 1 || (timestep.size(0) != 1 && timestep.size(0) != B))
        bad_arg("timestep", "must be [1] or [" + std::to_string(B) + "], got " + shape_str(timestep.sizes()));
    if (!cond.cross.defined() || cond.cross.size(0) != B || cond.kv.size() != m_->blocks.size() ||
        !cond.global.defined() || cond.global.size(0) != B)
        bad_arg("encoder_hidden_states", "batch/conditioning does not match hidden_states (batch " +
                                             std::to_string(B) + ")");
    const int64_t S = L + 1;  // the global token is position 0
    if (!rope.cos.defined() || !rope.sin.defined() || rope.cos.dim() != 2 || rope.cos.sizes() != rope.sin.sizes() ||
        rope.cos.size(0) < S || rope.cos.size(1) > cfg.attention_head_dim || rope.cos.size(1) % 2 != 0)
        bad_arg("rotary_embedding", "must be two equal [>= " + std::to_string(S) + ", even <= " +
                                        std::to_string(cfg.attention_head_dim) + "] tables, got cos " +
                                        (rope.cos.defined() ? shape_str(rope.cos.sizes()) : std::string("undefined")));

    c10::InferenceMode guard;
    const at::Tensor cos = rope.cos.slice(0, 0, S).to(device_, at::kFloat);
    const at::Tensor sin = rope.sin.slice(0, 0, S).to(device_, at::kFloat);

    // Timestep: Gaussian Fourier projection (flip_sin_to_cos: [cos, sin]) in the model dtype, as
    // diffusers' timestep.to(self.dtype); (2 * pi * t[:, None]) @ W[None, :].
    at::Tensor t = timestep.to(device_, dtype_);
    at::Tensor x_proj = at::matmul(2 * M_PI * t.unsqueeze(1), m_->time_proj_weight.unsqueeze(0));
    at::Tensor temb = (*m_->timestep_proj)(at::cat({at::cos(x_proj), at::sin(x_proj)}, -1));
    at::Tensor global = cond.global + temb.unsqueeze(1);

    at::Tensor x = hidden_states.to(device_, dtype_);
    x = at::conv1d(x, m_->preprocess_conv_weight) + x;
    x = (*m_->proj_in)(x.transpose(1, 2));
    x = at::cat({global, x}, -2);  // the global token first: position 0 of the RoPE table

    for (size_t i = 0; i < m_->blocks.size(); ++i)
        x = m_->blocks[i]->forward(x, cond.kv[i].first, cond.kv[i].second, cos, sin);

    x = (*m_->proj_out)(x);
    x = x.transpose(1, 2).slice(2, 1);  // drop the global token
    return at::conv1d(x, m_->postprocess_conv_weight) + x;
}

}  // namespace omnihost::models::stable_audio
