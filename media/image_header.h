// What an encoded still image says about itself in its first bytes: the format (by magic number,
// never by a name the sender gave) and the canvas size. Read before any decoder runs so an image
// that would need gigabytes of pixels is refused before a single pixel buffer is allocated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace omnihost::media {

enum class image_format { unknown, png, jpeg, webp };

struct image_header {
    image_format format = image_format::unknown;
    int width = 0;
    int height = 0;
    bool animated = false;  // an animated WebP (VP8X animation flag)
};

// The format from the magic number; unknown when it is none of PNG, JPEG, WebP.
image_format sniff_image_format(const uint8_t *data, size_t size);

// "image/png", "image/jpeg", "image/webp"; "" for unknown.
const char *image_format_mime(image_format format);

// Format and canvas size. Throws media_error when the format is unknown or the header is cut
// short or malformed (a JPEG is scanned marker by marker up to its frame header).
image_header read_image_header(const uint8_t *data, size_t size);

}  // namespace omnihost::media
