#include "codec.h"

#include <Poco/DigestEngine.h>
#include <Poco/MD5Engine.h>

#include <array>
#include <stdexcept>

namespace omnihost::proxy {

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int decode_char(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}
}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i < bytes.size()) {
        uint32_t v = uint8_t(bytes[i]) << 16;
        if (i + 1 < bytes.size()) v |= uint8_t(bytes[i + 1]) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += (i + 1 < bytes.size()) ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string base64_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size() / 4 * 3);
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        if (c == '=' || c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        int v = decode_char(c);
        if (v < 0) throw std::invalid_argument("invalid base64 character");
        acc = (acc << 6) | uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += char((acc >> bits) & 0xFF);
        }
    }
    return out;
}

std::string md5_hex(std::string_view bytes) {
    Poco::MD5Engine md5;
    md5.update(bytes.data(), static_cast<unsigned>(bytes.size()));
    return Poco::DigestEngine::digestToHex(md5.digest());
}

parsed_data_url parse_data_url(std::string_view url) {
    parsed_data_url out;
    if (!starts_with(url, "data:")) return out;
    auto comma = url.find(',');
    if (comma == std::string_view::npos) return out;
    std::string_view header = url.substr(5, comma - 5);
    auto semi = header.find(';');
    out.mime = std::string(header.substr(0, semi));
    out.payload = std::string(url.substr(comma + 1));
    out.ok = true;
    return out;
}

std::string sniff_mime(std::string_view b) {
    if (starts_with(b, "\x89PNG\r\n\x1a\n")) return "image/png";
    if (starts_with(b, "\xFF\xD8\xFF")) return "image/jpeg";
    if (starts_with(b, "GIF8")) return "image/gif";
    if (b.size() >= 12 && starts_with(b, "RIFF") && b.substr(8, 4) == "WEBP") return "image/webp";
    if (b.size() >= 12 && starts_with(b, "RIFF") && b.substr(8, 4) == "WAVE") return "audio/wav";
    if (starts_with(b, "fLaC")) return "audio/flac";
    if (starts_with(b, "OggS")) return "audio/ogg";
    if (starts_with(b, "ID3") || (b.size() >= 2 && uint8_t(b[0]) == 0xFF && (uint8_t(b[1]) & 0xE0) == 0xE0))
        return "audio/mpeg";
    if (b.size() >= 8 && b.substr(4, 4) == "ftyp") return "video/mp4";
    return "";
}

}  // namespace omnihost::proxy
