// What every fuzz target shares: the input as text, and a check that stops the run with a message
// (libFuzzer then saves the input) when a property the parser promises does not hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace omnihost::fuzz {

inline std::string_view as_text(const uint8_t *data, size_t size) {
    return {reinterpret_cast<const char *>(data), size};
}

// abort() rather than an exception: the property failed, the input is the finding.
#define FUZZ_CHECK(cond, what)                                                          \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", what, __FILE__, __LINE__); \
            std::abort();                                                               \
        }                                                                               \
    } while (0)

// Faults already found and reported to the owners of the code (fuzz/README.md lists them, with
// their inputs in fuzz/crashes/<target>/): a target skips an input that hits one, so a run keeps
// looking for new faults. OMNIHOST_FUZZ_STRICT=1 turns the skips off, to reproduce or to check a fix.
inline bool known_finding(bool hit) {
    static const bool strict = [] {
        const char *v = std::getenv("OMNIHOST_FUZZ_STRICT");
        return v && *v && *v != '0';
    }();
    return hit && !strict;
}

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
inline bool valid_utf8(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        size_t n = 0;
        uint32_t cp = 0;
        if (c < 0x80) { ++i; continue; }
        if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
        else return false;
        if (n > text.size() - 1 - i) return false;  // truncated sequence
        for (size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n + 1;
    }
    return true;
}

}  // namespace omnihost::fuzz
