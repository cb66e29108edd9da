#include "stable_audio_dit/sa_rope.h"

#include "core/safetensors.h"  // model_error

#include <ATen/ATen.h>

namespace omnihost::models::stable_audio {

rotary_table rotary_pos_embed(int64_t dim, int64_t positions, c10::Device device) {
    if (dim <= 0 || dim % 2 != 0)
        throw model_error("rotary_pos_embed: dim must be a positive even number, got " + std::to_string(dim));
    if (positions <= 0)
        throw model_error("rotary_pos_embed: positions must be > 0, got " + std::to_string(positions));
    // Same float32 steps as diffusers: 1.0 / (theta ** (arange(0, dim, 2) / dim)) / 1.0, then
    // outer(int64 positions, freqs), cos/sin, each duplicated along the last dim (not interleaved).
    at::Tensor exps = at::arange(0, dim, 2, at::kFloat).slice(0, 0, dim / 2) / dim;
    at::Tensor freqs = at::reciprocal(at::pow(10000.0, exps)) * 1.0 / 1.0;
    at::Tensor angles = at::outer(at::arange(positions, at::kLong), freqs);
    at::Tensor c = angles.cos(), s = angles.sin();
    return {at::cat({c, c}, -1).to(device), at::cat({s, s}, -1).to(device)};
}

}  // namespace omnihost::models::stable_audio
