// The rotary table the Stable Audio pipeline hands to StableAudioDiTModel: diffusers'
// get_1d_rotary_pos_embed(dim, positions, theta=10000, use_real=True, repeat_interleave_real=False)
// in float32, i.e. for k < dim/2:  f_k = 1 / 10000^(2k/dim),  angle[p, k] = p * f_k,
//   cos = cat(cos(angle), cos(angle)),  sin = cat(sin(angle), sin(angle))   -> [positions, dim] each.
// The DiT rotates the first `dim` channels of every self-attention head with it (rotate-half).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>

namespace omnihost::models::stable_audio {

struct rotary_table {
    at::Tensor cos;  // [positions, dim] float32
    at::Tensor sin;  // [positions, dim] float32
};

// dim: even, > 0 (the pipeline passes attention_head_dim / 2); positions: > 0 (sample_size + 1: the
// global token is position 0). model_error on bad arguments.
rotary_table rotary_pos_embed(int64_t dim, int64_t positions, c10::Device device = c10::kCPU);

}  // namespace omnihost::models::stable_audio
