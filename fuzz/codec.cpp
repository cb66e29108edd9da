// The proxies' codec: base64 of upstream media (standard and URL-safe, whitespace, missing
// padding), data: URLs, MIME sniffing and MD5.
// Properties: decoding throws only std::invalid_argument; decode(encode(x)) == x; the proxies'
// encoder and the host's encoder (the API's base64 fields) write the same text; a parsed data:
// URL's payload is part of the URL; MD5 is 32 lower-case hex digits.
#include "fuzz_check.h"

#include "api/http_io.h"
#include "codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text = omnihost::fuzz::as_text(data, size);
    using namespace omnihost::proxy;

    try {
        const std::string bytes = base64_decode(text);
        FUZZ_CHECK(bytes.size() <= text.size(), "decoding made more bytes than characters");
    } catch (const std::invalid_argument &) {
    }

    const std::string encoded = base64_encode(text);
    FUZZ_CHECK(encoded.size() == (size + 2) / 3 * 4, "encoded length is not 4*ceil(n/3)");
    FUZZ_CHECK(base64_decode(encoded) == text, "decode(encode(x)) != x");
    FUZZ_CHECK(omnihost::base64_encode(std::string(text)) == encoded,
               "the host's and the proxies' base64 encoders disagree");

    const parsed_data_url url = parse_data_url(text);
    if (url.ok) {
        FUZZ_CHECK(text.rfind("data:", 0) == 0, "a data: URL that does not start with data:");
        FUZZ_CHECK(text.find(url.payload) != std::string_view::npos, "a payload that is not in the URL");
        FUZZ_CHECK(text.find(url.mime) != std::string_view::npos, "a MIME type that is not in the URL");
    }
    (void)sniff_mime(text);

    const std::string md5 = md5_hex(text);
    FUZZ_CHECK(md5.size() == 32 && md5.find_first_not_of("0123456789abcdef") == std::string::npos,
               "md5_hex is not 32 lower-case hex digits");
    return 0;
}
