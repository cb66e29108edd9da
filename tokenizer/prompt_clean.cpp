// Mirrors Python's html.unescape, str.strip and `regex`'s \s over UTF-8 byte strings, because the
// reference pipeline (diffusers WanPipeline, no ftfy) cleans prompts with exactly those.
#include "prompt_clean.h"

#include "html_entities.h"

#include <cstdint>

namespace omnihost::text {
namespace {

void append_utf8(std::string &out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Decodes one code point at text[i]; returns its byte length (1 for an invalid byte, which is
// then treated as an opaque non-space character).
size_t decode_utf8(std::string_view text, size_t i, char32_t &cp) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > text.size()) {
        cp = 0xFFFD;
        return 1;
    }
    cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(text[i + k]);
        if ((b & 0xC0) != 0x80) {
            cp = 0xFFFD;
            return 1;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    return len;
}

// Unicode White_Space: what the `regex` module's \s matches (unlike `re`, not U+001C..U+001F).
bool is_regex_space(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

// Python's str.isspace(), used by str.strip(): White_Space plus the separators U+001C..U+001F.
bool is_python_space(char32_t c) { return is_regex_space(c) || (c >= 0x1C && c <= 0x1F); }

// html.unescape's table for numeric references it does not decode literally.
bool invalid_charref(uint32_t n, std::string &out) {
    static constexpr char32_t cp1252[32] = {
        0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x8D,   0x017D, 0x8F,   0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
    if (n == 0x00) {
        append_utf8(out, 0xFFFD);
        return true;
    }
    if (n == 0x0D) {
        out += '\r';
        return true;
    }
    if (n >= 0x80 && n <= 0x9F) {
        append_utf8(out, cp1252[n - 0x80]);
        return true;
    }
    return false;
}

bool invalid_codepoint(uint32_t n) {
    return (n >= 0x1 && n <= 0x8) || n == 0xB || (n >= 0xE && n <= 0x1F) || (n >= 0x7F && n <= 0x9F) ||
           (n >= 0xFDD0 && n <= 0xFDEF) || (n & 0xFFFE) == 0xFFFE;
}

// "&#..." at text[i] (text[i] == '&', text[i+1] == '#'). Returns bytes consumed, 0 if no match.
size_t numeric_reference(std::string_view text, size_t i, std::string &out) {
    size_t j = i + 2;
    const bool hex = j < text.size() && (text[j] == 'x' || text[j] == 'X');
    if (hex) ++j;
    const size_t digits_begin = j;
    uint64_t n = 0;
    for (; j < text.size(); ++j) {
        const char c = text[j];
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        if (d < 0) break;
        n = n * (hex ? 16 : 10) + static_cast<uint64_t>(d);
        if (n > 0x10FFFF) n = 0x110000;  // saturate: Python's big int is simply "too large"
    }
    if (j == digits_begin) return 0;
    if (j < text.size() && text[j] == ';') ++j;
    const auto num = static_cast<uint32_t>(n);
    if (invalid_charref(num, out)) return j - i;
    if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
        append_utf8(out, 0xFFFD);
    } else if (!invalid_codepoint(num)) {
        append_utf8(out, num);
    }
    return j - i;
}

// "&name" at text[i]. Python matches [^\t\n\f <&#;]{1,32};? and then tries the whole match, and
// failing that the longest prefix that is a legacy (';'-less) name.
size_t named_reference(std::string_view text, size_t i, std::string &out) {
    size_t j = i + 1;
    size_t chars = 0;
    while (j < text.size() && chars < 32) {
        const char c = text[j];
        if (c == '\t' || c == '\n' || c == '\f' || c == ' ' || c == '<' || c == '&' || c == '#' || c == ';') break;
        char32_t cp;
        j += decode_utf8(text, j, cp);
        ++chars;
    }
    if (chars == 0) return 0;
    const std::string_view name = text.substr(i + 1, j - i - 1);
    const bool has_semicolon = j < text.size() && text[j] == ';';
    if (const auto *e = detail::find_html_entity(name); e != nullptr && (has_semicolon || e->legacy)) {
        out.append(e->utf8);
        return j - i + (has_semicolon ? 1 : 0);
    }
    // Longest proper prefix of at least 2 bytes that is a legacy name; the rest stays as text.
    // (Entity names are ASCII, so byte prefixes and Python's character prefixes agree.)
    for (size_t len = name.size() + (has_semicolon ? 1 : 0) - 1; len >= 2; --len) {
        if (len > name.size()) continue;
        const auto *e = detail::find_html_entity(name.substr(0, len));
        if (e != nullptr && e->legacy) {
            out.append(e->utf8);
            return 1 + len;
        }
    }
    return 0;
}

}  // namespace

std::string html_unescape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        if (text[i] == '&' && i + 1 < text.size()) {
            const size_t used =
                text[i + 1] == '#' ? numeric_reference(text, i, out) : named_reference(text, i, out);
            if (used > 0) {
                i += used;
                continue;
            }
        }
        out += text[i++];
    }
    return out;
}

std::string strip_whitespace(std::string_view text) {
    size_t begin = 0;
    while (begin < text.size()) {
        char32_t cp;
        const size_t len = decode_utf8(text, begin, cp);
        if (!is_python_space(cp)) break;
        begin += len;
    }
    size_t end = text.size();
    while (end > begin) {
        size_t start = end - 1;  // back up to the first byte of the last code point
        while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        char32_t cp;
        const size_t len = decode_utf8(text, start, cp);
        if (start + len != end || !is_python_space(cp)) break;
        end = start;
    }
    return std::string(text.substr(begin, end - begin));
}

std::string collapse_whitespace(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool in_space = false;
    for (size_t i = 0; i < text.size();) {
        char32_t cp;
        const size_t len = decode_utf8(text, i, cp);
        if (is_regex_space(cp)) {
            if (!in_space) out += ' ';
            in_space = true;
        } else {
            out.append(text.substr(i, len));
            in_space = false;
        }
        i += len;
    }
    return strip_whitespace(out);
}

std::string wan_prompt_clean(std::string_view text) {
    return collapse_whitespace(strip_whitespace(html_unescape(html_unescape(text))));
}

}  // namespace omnihost::text
