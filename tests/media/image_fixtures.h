// Real PNG/JPEG/WebP files made with FFmpeg's own encoders, for tests of the image input path
// (the media unit tests and the host's image-to-video end to end).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace omnihost::test_images {

// A smooth test picture (gradients plus a bright square), RGB24 row-major.
std::vector<uint8_t> pattern_rgb(int width, int height);

// Encodes RGB24 with the named FFmpeg encoder: "png", "mjpeg" (JPEG, quality ~2) or "libwebp"
// (lossless when `lossless`). Throws std::runtime_error when the encoder is missing or fails.
std::vector<uint8_t> encode_rgb(const std::vector<uint8_t> &rgb, int width, int height,
                                const std::string &encoder, bool lossless = false);

// Standard base64 with padding.
std::string base64(const std::vector<uint8_t> &bytes);

}  // namespace omnihost::test_images
