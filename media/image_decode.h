// Still images sent by a user (the image-to-video input): the text form a request carries (base64 or
// a data: URL) turned into bytes, and PNG/JPEG/WebP bytes decoded with FFmpeg into RGB24.
// Every limit is checked before the memory it protects is allocated: the byte size from the text's
// length, the pixel count from the image header. Errors are media_error with a message a user can
// act on. Thread-safe (no shared state).
#pragma once

#include "media/image_header.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace omnihost::media {

struct image_decode_limits {
    size_t max_bytes = 0;  // encoded size; 0 = no limit
    int max_width = 0;     // 0 = no limit
    int max_height = 0;    // 0 = no limit
};

struct decoded_image {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> rgb;  // RGB24, row-major, width*height*3 bytes
};

// Decodes one PNG, JPEG or (still) WebP image. An alpha channel is dropped (as PIL's
// convert("RGB") does, without blending). Throws media_error when the input is empty, over a
// limit, not one of the three formats, animated, or corrupt.
decoded_image decode_image(const uint8_t *data, size_t size, const image_decode_limits &limits);

struct image_payload {
    std::string mime;  // from the data: URL, or sniffed from the bytes for plain base64
    std::vector<uint8_t> bytes;
};

// Accepts "data:image/png;base64,...", "data:image/jpeg;base64,...", "data:image/webp;base64,..."
// or plain base64 (standard or URL-safe alphabet; whitespace ignored). Refuses (media_error) empty
// text, a data: URL that is not base64 or names another MIME type, bytes whose magic number does
// not match the MIME type named, bytes that are no image of the three formats, and text whose
// decoded size would pass max_bytes (0 = no limit; checked before decoding).
image_payload decode_image_payload(std::string_view text, size_t max_bytes);

// Lower-case hex SHA-256 of `bytes` (names an input image in a result's metadata).
std::string sha256_hex(const uint8_t *data, size_t size);

}  // namespace omnihost::media
