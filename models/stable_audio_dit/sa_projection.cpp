#include "stable_audio_dit/sa_projection.h"

#include "core/safetensors.h"
#include "stable_audio_dit/sa_dit_modules.h"

#include <ATen/ATen.h>
#include <torch/types.h>

namespace omnihost::models::stable_audio {
namespace {

void check_dtype(c10::ScalarType t) {
    if (t != c10::kFloat && t != c10::kBFloat16)
        throw model_error(std::string("dtype: StableAudioProjectionModel supports fp32 and bf16, not ") +
                          c10::toString(t));
}

at::Tensor check_seconds(const at::Tensor &s, const char *what) {
    if (!s.defined() || s.dim() != 1 || !at::isFloatingType(s.scalar_type()))
        throw model_error(std::string("StableAudioProjectionModel: ") + what + " must be a 1-D float tensor [B]");
    return s;
}

}  // namespace

projection_model projection_model::load(const std::filesystem::path &dir, const load_opts &opts) {
    const auto cfg = projection_config::from_file(dir / "config.json");
    return load(cfg, tensor_store::open(dir), opts);
}

projection_model projection_model::load(const projection_config &cfg, const tensor_store &weights,
                                        const load_opts &opts) {
    check_dtype(opts.dtype);
    cfg.validate("config");
    projection_model p;
    p.m_ = std::make_shared<detail::projection_m>(cfg);
    load_options lo;
    lo.dtype = opts.dtype;
    lo.device = opts.device;
    load_module(*p.m_, weights, lo);
    p.dtype_ = opts.dtype;
    p.device_ = opts.device;
    return p;
}

projection_model projection_model::random(const projection_config &cfg, uint64_t seed, const load_opts &opts,
                                          double std) {
    check_dtype(opts.dtype);
    cfg.validate("config");
    projection_model p;
    p.m_ = std::make_shared<detail::projection_m>(cfg);
    torch::NoGradGuard no_grad;
    auto gen = at::detail::createCPUGenerator(seed);
    for (auto &kv : p.m_->named_parameters(true))
        kv.value().set_data(at::normal(0.0, std, kv.value().sizes(), gen).to(opts.device, opts.dtype));
    p.dtype_ = opts.dtype;
    p.device_ = opts.device;
    return p;
}

at::Tensor projection_model::project_text(const at::Tensor &text) const {
    const auto &cfg = m_->cfg;
    if (!text.defined() || text.dim() != 3 || text.size(2) != cfg.text_encoder_dim)
        throw model_error("StableAudioProjectionModel: text_hidden_states must be [B, S, " +
                          std::to_string(cfg.text_encoder_dim) + "]");
    torch::NoGradGuard no_grad;  // not InferenceMode: callers may scale the results in place
    at::Tensor x = text.to(device_, dtype_);
    return m_->text_projection ? (*m_->text_projection)(x) : x;
}

at::Tensor projection_model::seconds_start(const at::Tensor &seconds) const {
    torch::NoGradGuard no_grad;
    return (*m_->start)(check_seconds(seconds, "start_seconds").to(device_));
}

at::Tensor projection_model::seconds_end(const at::Tensor &seconds) const {
    torch::NoGradGuard no_grad;
    return (*m_->end)(check_seconds(seconds, "end_seconds").to(device_));
}

void projection_model::to(c10::Device device) {
    if (device == device_) return;
    torch::NoGradGuard no_grad;
    for (auto &p : m_->parameters(true)) p.set_data(p.to(device));
    device_ = device;
}

const projection_config &projection_model::config() const { return m_->cfg; }

std::vector<std::pair<std::string, at::Tensor>> projection_model::named_parameters() const {
    std::vector<std::pair<std::string, at::Tensor>> out;
    for (const auto &kv : m_->named_parameters(true)) out.emplace_back(kv.key(), kv.value());
    return out;
}

}  // namespace omnihost::models::stable_audio
