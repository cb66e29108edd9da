// The remote server URL a user types (run_mode remote): trimmed, trailing '/' and '/v1' removed,
// http or https required. The result becomes the base of every upstream request and its Host.
// Properties: a refusal is a proxy_error naming remote_url; an accepted URL starts with http:// or
// https:// (any case), has a host, holds no whitespace, control character, query or fragment, and does
// not end in '/'.
#include "fuzz_check.h"

#include "proxy_error.h"
#include "remote_url.h"

#include <cctype>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string input(reinterpret_cast<const char *>(data), size);
    std::string url;
    bool stripped = false;
    try {
        url = omnihost::proxy::normalize_remote_url(input, &stripped);
    } catch (const omnihost::proxy::proxy_error &e) {
        FUZZ_CHECK(std::string_view(e.what()).rfind("remote_url", 0) == 0, "a refusal that does not name remote_url");
        return 0;
    }
    std::string lower = url.substr(0, 8);
    for (char &c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t scheme = lower.rfind("https://", 0) == 0 ? 8 : lower.rfind("http://", 0) == 0 ? 7 : 0;
    FUZZ_CHECK(scheme != 0, "an accepted URL without http:// or https://");
    FUZZ_CHECK(url.size() > scheme && url[scheme] != '/', "an accepted URL without a host");
    FUZZ_CHECK(url.back() != '/', "an accepted URL ending in '/'");
    for (const char c : url) {
        const auto u = static_cast<unsigned char>(c);
        FUZZ_CHECK(u > 0x20 && u != 0x7f, "an accepted URL holding whitespace or a control character");
        FUZZ_CHECK(c != '?' && c != '#', "an accepted URL holding a query or fragment");
    }
    return 0;
}
