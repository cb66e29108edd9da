// decode_image_payload and sha256_hex (declared in image_decode.h): the text side of an image input.
#include "media/image_decode.h"

#include "media/media_error.h"

extern "C" {
#include <libavutil/mem.h>
#include <libavutil/sha.h>
}

#include <array>
#include <memory>

namespace omnihost::media {
namespace {

constexpr std::string_view kAccepted = "image/png, image/jpeg or image/webp";

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::vector<uint8_t> base64_bytes(std::string_view text, size_t max_bytes) {
    // Every 4 characters carry at most 3 bytes: refuse on the text's length before allocating.
    if (max_bytes > 0 && text.size() / 4 > max_bytes / 3 + 1) {
        // Whitespace does not count; only pay for the exact count when the estimate is over.
        size_t chars = 0;
        for (char c : text)
            if (!is_space(c) && c != '=') ++chars;
        const size_t decoded = chars * 3 / 4;
        if (decoded > max_bytes)
            throw media_error("the image is " + std::to_string(decoded) + " bytes; the limit is " +
                              std::to_string(max_bytes) + " bytes");
    }
    std::vector<uint8_t> out;
    out.reserve(text.size() / 4 * 3 + 3);
    uint32_t acc = 0;
    int bits = 0;
    bool padding = false;
    for (char c : text) {
        if (is_space(c)) continue;
        if (c == '=') {
            padding = true;
            continue;
        }
        const int v = base64_value(c);
        if (v < 0 || padding)
            throw media_error("the image is not valid base64 (unexpected character '" +
                              std::string(1, c) + "')");
        acc = (acc << 6) | uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(uint8_t((acc >> bits) & 0xFF));
        }
    }
    if (bits >= 6) throw media_error("the image is not valid base64 (its length is cut short)");
    if (max_bytes > 0 && out.size() > max_bytes)
        throw media_error("the image is " + std::to_string(out.size()) + " bytes; the limit is " +
                          std::to_string(max_bytes) + " bytes");
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return out;
}

}  // namespace

image_payload decode_image_payload(std::string_view text, size_t max_bytes) {
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    if (text.empty()) throw media_error("the image is empty");

    image_payload out;
    if (lower(text.substr(0, 5)) == "data:") {
        const size_t comma = text.find(',');
        if (comma == std::string_view::npos)
            throw media_error("the image data URL has no ',' before its data");
        const std::string header = lower(text.substr(5, comma - 5));
        const size_t semi = header.find(';');
        out.mime = header.substr(0, semi);
        if (semi == std::string::npos || header.substr(semi).find(";base64") == std::string::npos)
            throw media_error("the image data URL must be base64 (data:<type>;base64,...)");
        if (out.mime != "image/png" && out.mime != "image/jpeg" && out.mime != "image/webp" &&
            out.mime != "image/jpg")
            throw media_error("the image data URL says '" + out.mime + "'; accepted are " +
                              std::string(kAccepted));
        if (out.mime == "image/jpg") out.mime = "image/jpeg";
        text.remove_prefix(comma + 1);
    }
    out.bytes = base64_bytes(text, max_bytes);
    if (out.bytes.empty()) throw media_error("the image is empty");

    const char *sniffed = image_format_mime(sniff_image_format(out.bytes.data(), out.bytes.size()));
    if (*sniffed == '\0')
        throw media_error("the image is not PNG, JPEG or WebP (its first bytes match none of them)");
    if (!out.mime.empty() && out.mime != sniffed)
        throw media_error("the image data URL says " + out.mime + " but the bytes are " + sniffed);
    out.mime = sniffed;
    return out;
}

std::string sha256_hex(const uint8_t *data, size_t size) {
    struct sha_deleter {
        void operator()(AVSHA *s) const { av_free(s); }
    };
    std::unique_ptr<AVSHA, sha_deleter> sha(av_sha_alloc());
    if (!sha || av_sha_init(sha.get(), 256) < 0) throw media_error("out of memory hashing the image");
    av_sha_update(sha.get(), data, size);
    std::array<uint8_t, 32> digest{};
    av_sha_final(sha.get(), digest.data());
    std::string hex(64, '0');
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < digest.size(); ++i) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    return hex;
}

}  // namespace omnihost::media
