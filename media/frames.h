// Turning decoder output into 8-bit RGB the way diffusers' export_to_video does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace omnihost::media {

// uint8(x * 255) with truncation toward zero, as numpy's astype(np.uint8) does on values in [0, 1]
// (export_to_video does not round). Values outside [0, 1] are clamped first so NaN/overflow can
// not produce garbage bytes; NaN maps to 0.
std::vector<uint8_t> quantize_unit_floats(const float *values, size_t count);

}  // namespace omnihost::media
