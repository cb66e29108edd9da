#include "wan_transformer/wan_rope.h"

#include "core/model_error.h"

namespace omnihost::models::wan {

rope_split wan_rope_split(int64_t head_dim, const std::string &origin) {
    // Each axis rotates channel pairs, so every part must be even; h = w = 2 * (head_dim / 6) is
    // even by construction and t = head_dim - 2 h is even exactly when head_dim is.
    if (head_dim < 6 || head_dim % 2 != 0)
        throw model_error(origin + ": key 'attention_head_dim' is " + std::to_string(head_dim) +
                          "; the RoPE split needs an even head dim of at least 6 (t | h | w, h = w = 2 * (head_dim / 6))");
    rope_split s;
    s.h = s.w = 2 * (head_dim / 6);
    s.t = head_dim - s.h - s.w;
    return s;
}

}  // namespace omnihost::models::wan
