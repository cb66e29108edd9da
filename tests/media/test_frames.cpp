#include "media/frames.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

TEST_SUITE("frames") {
TEST_CASE("quantisation truncates like numpy astype(uint8) of frame*255") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float in[] = {0.0f, 1.0f, 0.5f, 0.999f, 1.0f / 255.0f, 0.00390f, -0.2f, 1.7f, nan};
    auto out = omnihost::media::quantize_unit_floats(in, 9);
    CHECK(out[0] == 0);
    CHECK(out[1] == 255);
    CHECK(out[2] == 127);  // 127.5 truncates, rounding would give 128
    CHECK(out[3] == 254);  // 254.745
    CHECK(out[4] == 1);
    CHECK(out[5] == 0);    // 0.9945
    CHECK(out[6] == 0);    // clamped
    CHECK(out[7] == 255);  // clamped
    CHECK(out[8] == 0);    // NaN
}
}
