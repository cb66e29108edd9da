#include "standin_payloads.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

extern const unsigned char standin_sample_mp4[];
extern const std::size_t standin_sample_mp4_size;

namespace standin {

namespace {

uint32_t crc32(const std::string& data, size_t from, size_t len) {
    static uint32_t table[256];
    static bool init = false;
    if (!init) {
        for (uint32_t n = 0; n < 256; ++n) {
            uint32_t c = n;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        init = true;
    }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = from; i < from + len; ++i) c = table[(c ^ uint8_t(data[i])) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

void put_be32(std::string& s, uint32_t v) {
    for (int i = 3; i >= 0; --i) s += char((v >> (8 * i)) & 0xFF);
}
void put_le16(std::string& s, uint16_t v) {
    s += char(v & 0xFF);
    s += char(v >> 8);
}
void put_le32(std::string& s, uint32_t v) {
    for (int i = 0; i < 4; ++i) s += char((v >> (8 * i)) & 0xFF);
}

void chunk(std::string& png, const char* type, const std::string& data) {
    put_be32(png, static_cast<uint32_t>(data.size()));
    size_t start = png.size();
    png += type;
    png += data;
    put_be32(png, crc32(png, start, png.size() - start));
}

}  // namespace

std::string make_png(int width, int height, int seed) {
    std::string raw;  // filter byte 0 + RGB per row
    raw.reserve(static_cast<size_t>(height) * (1 + 3 * width));
    for (int y = 0; y < height; ++y) {
        raw += '\0';
        for (int x = 0; x < width; ++x) {
            raw += char((x * 255 / std::max(1, width - 1) + seed) & 0xFF);
            raw += char((y * 255 / std::max(1, height - 1)) & 0xFF);
            raw += char((seed * 37 + (x ^ y)) & 0xFF);
        }
    }
    // zlib stream with stored (uncompressed) deflate blocks.
    std::string z = "\x78\x01";
    for (size_t off = 0; off < raw.size() || off == 0;) {
        size_t n = std::min<size_t>(65535, raw.size() - off);
        bool last = off + n >= raw.size();
        z += char(last ? 1 : 0);
        put_le16(z, static_cast<uint16_t>(n));
        put_le16(z, static_cast<uint16_t>(~n));
        z.append(raw, off, n);
        off += n;
        if (last) break;
    }
    uint32_t a = 1, b = 0;
    for (unsigned char c : raw) {
        a = (a + c) % 65521;
        b = (b + a) % 65521;
    }
    put_be32(z, (b << 16) | a);

    std::string png = "\x89PNG\r\n\x1a\n";
    std::string ihdr;
    put_be32(ihdr, static_cast<uint32_t>(width));
    put_be32(ihdr, static_cast<uint32_t>(height));
    ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit, RGB, deflate, no filter, no interlace
    chunk(png, "IHDR", ihdr);
    chunk(png, "IDAT", z);
    chunk(png, "IEND", "");
    return png;
}

std::string make_wav(double seconds, int rate, int channels, double freq) {
    const uint32_t frames = static_cast<uint32_t>(seconds * rate);
    const uint32_t data_bytes = frames * channels * 2;
    std::string w = "RIFF";
    put_le32(w, 36 + data_bytes);
    w += "WAVEfmt ";
    put_le32(w, 16);
    put_le16(w, 1);
    put_le16(w, static_cast<uint16_t>(channels));
    put_le32(w, static_cast<uint32_t>(rate));
    put_le32(w, static_cast<uint32_t>(rate * channels * 2));
    put_le16(w, static_cast<uint16_t>(channels * 2));
    put_le16(w, 16);
    w += "data";
    put_le32(w, data_bytes);
    w.reserve(w.size() + data_bytes);
    for (uint32_t i = 0; i < frames; ++i) {
        int16_t v = static_cast<int16_t>(8000 * std::sin(2 * M_PI * freq * i / rate));
        for (int c = 0; c < channels; ++c) put_le16(w, static_cast<uint16_t>(v));
    }
    return w;
}

std::string sample_mp4() {
    return std::string(reinterpret_cast<const char*>(standin_sample_mp4), standin_sample_mp4_size);
}

std::string base64(const std::string& in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += t[(v >> 6) & 63];
        out += t[v & 63];
    }
    if (i < in.size()) {
        uint32_t v = uint8_t(in[i]) << 16;
        if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += i + 1 < in.size() ? t[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

}  // namespace standin
