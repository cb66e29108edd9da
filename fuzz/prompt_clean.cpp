// Prompt cleaning before tokenization (the prompt comes straight from the request):
// html_unescape, whitespace collapsing and stripping, and their composition wan_prompt_clean.
// Properties: valid UTF-8 in, valid UTF-8 out (the tokenizer gets no broken sequences);
// unescaping cannot blow the text up (a reference is never much shorter than what it stands for:
// "&nGt;" gives 6 bytes for 5, so twice the input is a safe bound); collapsing and stripping are idempotent and leave no whitespace at either end.
#include "fuzz_check.h"

#include "prompt_clean.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text = omnihost::fuzz::as_text(data, size);
    using namespace omnihost::text;
    using omnihost::fuzz::valid_utf8;

    const std::string unescaped = html_unescape(text);
    const std::string collapsed = collapse_whitespace(text);
    const std::string stripped = strip_whitespace(text);
    const std::string cleaned = wan_prompt_clean(text);

    FUZZ_CHECK(unescaped.size() <= 2 * text.size(), "html_unescape more than doubled the text");
    FUZZ_CHECK(collapse_whitespace(collapsed) == collapsed, "collapse_whitespace is not idempotent");
    FUZZ_CHECK(strip_whitespace(stripped) == stripped, "strip_whitespace is not idempotent");
    FUZZ_CHECK(strip_whitespace(cleaned) == cleaned, "wan_prompt_clean left whitespace at an end");
    FUZZ_CHECK(collapse_whitespace(cleaned) == cleaned, "wan_prompt_clean left a whitespace run");
    if (valid_utf8(text)) {
        FUZZ_CHECK(valid_utf8(unescaped), "html_unescape made invalid UTF-8 from valid UTF-8");
        FUZZ_CHECK(valid_utf8(collapsed), "collapse_whitespace made invalid UTF-8 from valid UTF-8");
        FUZZ_CHECK(valid_utf8(stripped), "strip_whitespace made invalid UTF-8 from valid UTF-8");
        FUZZ_CHECK(valid_utf8(cleaned), "wan_prompt_clean made invalid UTF-8 from valid UTF-8");
    }
    return 0;
}
