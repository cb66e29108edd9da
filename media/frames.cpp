#include "media/frames.h"

namespace omnihost::media {

std::vector<uint8_t> quantize_unit_floats(const float *values, size_t count) {
    std::vector<uint8_t> out(count);
    for (size_t i = 0; i < count; ++i) {
        float v = values[i];
        if (!(v > 0.0f)) v = 0.0f;  // also catches NaN
        if (v > 1.0f) v = 1.0f;
        // Multiply in float32 like numpy does on a float32 array, then truncate.
        out[i] = static_cast<uint8_t>(v * 255.0f);
    }
    return out;
}

}  // namespace omnihost::media
