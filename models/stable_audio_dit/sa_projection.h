// StableAudioProjectionModel (diffusers pipelines/stable_audio/modeling_stable_audio.py) on libtorch,
// loaded strictly from a diffusers `projection_model/` folder. Parameter names = checkpoint keys:
//   text_projection.{weight,bias}                      (only when text_encoder_dim != conditioning_dim;
//                                                       otherwise the projection is the identity)
//   {start,end}_number_conditioner.time_positional_embedding.0.weights   [128]
//   {start,end}_number_conditioner.time_positional_embedding.1.{weight,bias}  [conditioning_dim, 257]
//
// Number conditioner: x = clamp(seconds, min, max); x = (x - min) / (max - min);
// f = ((x * w) * 2) * pi; emb = cat(x, sin f, cos f); Linear(257 -> conditioning_dim) -> [B, 1, dim].
#pragma once

#include "stable_audio_dit/sa_dit.h"  // load_opts
#include "stable_audio_dit/sa_dit_config.h"

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace omnihost::models::stable_audio {

namespace detail { struct projection_m; }

class projection_model {
public:
    static projection_model load(const std::filesystem::path &dir, const load_opts &opts = {});
    static projection_model load(const projection_config &cfg, const tensor_store &weights,
                                 const load_opts &opts = {});
    static projection_model random(const projection_config &cfg, uint64_t seed, const load_opts &opts = {},
                                   double std = 0.02);

    // text_projection: [B, S, text_encoder_dim] -> [B, S, conditioning_dim] (the input itself,
    // converted to the model dtype/device, when the projection is the identity).
    at::Tensor project_text(const at::Tensor &text_hidden_states) const;
    // seconds: [B] float (any dtype/device) -> [B, 1, conditioning_dim].
    at::Tensor seconds_start(const at::Tensor &seconds) const;
    at::Tensor seconds_end(const at::Tensor &seconds) const;

    void to(c10::Device device);
    const projection_config &config() const;
    c10::ScalarType dtype() const { return dtype_; }
    c10::Device device() const { return device_; }
    std::vector<std::pair<std::string, at::Tensor>> named_parameters() const;

private:
    std::shared_ptr<detail::projection_m> m_;
    c10::ScalarType dtype_ = c10::kFloat;
    c10::Device device_ = c10::kCPU;
};

}  // namespace omnihost::models::stable_audio
