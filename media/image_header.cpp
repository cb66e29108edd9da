#include "media/image_header.h"

#include "media/media_error.h"

#include <cstring>

namespace omnihost::media {
namespace {

uint32_t be32(const uint8_t *p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
uint16_t be16(const uint8_t *p) { return uint16_t((p[0] << 8) | p[1]); }
uint32_t le24(const uint8_t *p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16); }
uint16_t le16(const uint8_t *p) { return uint16_t(p[0] | (p[1] << 8)); }

[[noreturn]] void malformed(const char *format, const char *what) {
    throw media_error(std::string("the ") + format + " image is corrupt: " + what);
}

image_header png_header(const uint8_t *d, size_t n) {
    // Signature (8), then the first chunk must be IHDR: length (4), "IHDR", width (4), height (4).
    if (n < 24) malformed("PNG", "it ends inside its header");
    if (std::memcmp(d + 12, "IHDR", 4) != 0) malformed("PNG", "the first chunk is not IHDR");
    const uint32_t w = be32(d + 16), h = be32(d + 20);
    // PNG caps both at 2^31-1; anything above is not a PNG.
    if (w == 0 || h == 0 || w > 0x7fffffffu || h > 0x7fffffffu)
        malformed("PNG", "its IHDR gives an invalid size");
    return {image_format::png, int(w), int(h), false};
}

bool is_sof_marker(uint8_t m) {
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

image_header jpeg_header(const uint8_t *d, size_t n) {
    size_t i = 2;  // past SOI
    while (i + 4 <= n) {
        if (d[i] != 0xFF) malformed("JPEG", "a marker is missing where one must start");
        uint8_t marker = d[i + 1];
        if (marker == 0xFF) {  // fill byte
            ++i;
            continue;
        }
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length field
            i += 2;
            continue;
        }
        if (marker == 0xD9 || marker == 0xDA) malformed("JPEG", "it has no frame header");
        const size_t len = be16(d + i + 2);
        if (len < 2) malformed("JPEG", "a segment length is invalid");
        if (is_sof_marker(marker)) {
            // Length (2), precision (1), height (2), width (2).
            if (i + 9 > n) break;
            const int h = be16(d + i + 5), w = be16(d + i + 7);
            // Height 0 (defined later by a DNL marker) is legal JPEG but no decoder here takes it.
            if (w == 0 || h == 0) malformed("JPEG", "its frame header gives a zero size");
            return {image_format::jpeg, w, h, false};
        }
        i += 2 + len;
    }
    malformed("JPEG", "it ends before its frame header");
}

image_header webp_header(const uint8_t *d, size_t n) {
    // "RIFF" size "WEBP", then the first chunk: "VP8 " (lossy), "VP8L" (lossless) or "VP8X" (extended).
    if (n < 30) malformed("WebP", "it ends inside its header");
    const uint8_t *c = d + 12;
    if (std::memcmp(c, "VP8X", 4) == 0) {
        const bool animated = (c[8] & 0x02) != 0;
        const int w = int(le24(c + 12)) + 1, h = int(le24(c + 15)) + 1;
        return {image_format::webp, w, h, animated};
    }
    if (std::memcmp(c, "VP8L", 4) == 0) {
        if (c[8] != 0x2F) malformed("WebP", "the lossless signature byte is wrong");
        const uint32_t bits = uint32_t(c[9]) | (uint32_t(c[10]) << 8) | (uint32_t(c[11]) << 16) |
                              (uint32_t(c[12]) << 24);
        const int w = int(bits & 0x3FFF) + 1, h = int((bits >> 14) & 0x3FFF) + 1;
        return {image_format::webp, w, h, false};
    }
    if (std::memcmp(c, "VP8 ", 4) == 0) {
        // Chunk header (8), frame tag (3), start code 9d 01 2a, then 14-bit width and height.
        const uint8_t *f = c + 8;
        if (f[3] != 0x9D || f[4] != 0x01 || f[5] != 0x2A) malformed("WebP", "the VP8 start code is wrong");
        const int w = le16(f + 6) & 0x3FFF, h = le16(f + 8) & 0x3FFF;
        if (w == 0 || h == 0) malformed("WebP", "its frame header gives a zero size");
        return {image_format::webp, w, h, false};
    }
    malformed("WebP", "its first chunk is none of VP8, VP8L, VP8X");
}

}  // namespace

image_format sniff_image_format(const uint8_t *d, size_t n) {
    if (n >= 8 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) return image_format::png;
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return image_format::jpeg;
    if (n >= 12 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0)
        return image_format::webp;
    return image_format::unknown;
}

const char *image_format_mime(image_format format) {
    switch (format) {
    case image_format::png: return "image/png";
    case image_format::jpeg: return "image/jpeg";
    case image_format::webp: return "image/webp";
    case image_format::unknown: break;
    }
    return "";
}

image_header read_image_header(const uint8_t *data, size_t size) {
    switch (sniff_image_format(data, size)) {
    case image_format::png: return png_header(data, size);
    case image_format::jpeg: return jpeg_header(data, size);
    case image_format::webp: return webp_header(data, size);
    case image_format::unknown: break;
    }
    throw media_error("the image is not PNG, JPEG or WebP (its first bytes match none of them)");
}

}  // namespace omnihost::media
