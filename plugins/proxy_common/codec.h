// Small encoders shared by the proxies: base64, MD5, data: URLs and payload sniffing.
#pragma once

#include <string>
#include <string_view>

namespace omnihost::proxy {

std::string base64_encode(std::string_view bytes);
// Accepts standard and URL-safe alphabets, ignores whitespace, tolerates missing padding.
// Throws std::invalid_argument on characters outside the alphabet.
std::string base64_decode(std::string_view text);

// Lower-case hex MD5 of `bytes` (Poco::MD5Engine).
std::string md5_hex(std::string_view bytes);

// A parsed "data:<mime>;base64,<payload>" URL. `ok` is false when `url` is not a data: URL.
struct parsed_data_url {
    bool ok = false;
    std::string mime;     // "" when the URL names none
    std::string payload;  // still base64 text
};
parsed_data_url parse_data_url(std::string_view url);

// Best guess at a MIME type from the first bytes (PNG, JPEG, WEBP, GIF, WAV, MP3, FLAC, OGG, MP4).
// Returns "" when unknown.
std::string sniff_mime(std::string_view bytes);

}  // namespace omnihost::proxy
