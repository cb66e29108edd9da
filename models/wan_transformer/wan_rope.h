// The Wan RoPE head-dim split (WanRotaryPosEmbed): the head's channels are divided between the
// frame, height and width axes as h = w = 2 * (head_dim / 6), t = head_dim - h - w. The rotary
// tables and the per-token grid must use the same split, so both take it from here.
// No libtorch in this header: configs validate with it.
#pragma once

#include <cstdint>
#include <string>

namespace omnihost::models::wan {

struct rope_split {
    int64_t t = 0, h = 0, w = 0;
};

// Throws model_error (naming `origin` and attention_head_dim) for a head dim that cannot be split
// into three non-empty even parts: odd, or smaller than 6 (h and w would be empty).
rope_split wan_rope_split(int64_t head_dim, const std::string &origin = "WanRotaryPosEmbed");

}  // namespace omnihost::models::wan
