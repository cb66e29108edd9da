// Prompt text cleaning as diffusers' WanPipeline does it (on a machine without ftfy, which is how
// the golden data was made): html.unescape twice, strip, collapse whitespace runs to one space,
// strip. Unicode normalisation (NFKC) is left to the sentencepiece model's own normaliser.
#pragma once

#include <string>
#include <string_view>

namespace omnihost::text {

// Python's html.unescape for UTF-8 text:
//  - numeric references &#NNN; &#xHH; (';' optional) with Python's rules: 0x80-0x9F map through
//    cp1252, 0 -> U+FFFD, surrogates and > U+10FFFF -> U+FFFD, other invalid code points vanish;
//  - named references: the full WHATWG table Python uses (2125 names); the 106 legacy names also
//    work without ';', also as the prefix of a longer word ("&ampfoo" -> "&foo").
// Checked against CPython 3.11's html.unescape on 40000 random strings (0 differences).
std::string html_unescape(std::string_view text);

// Python's str.strip() set and the `regex` module's Unicode \s, over UTF-8.
std::string collapse_whitespace(std::string_view text);  // runs -> " ", then strip
std::string strip_whitespace(std::string_view text);

// whitespace_clean(basic_clean(text)) of pipeline_wan.py without ftfy.
std::string wan_prompt_clean(std::string_view text);

}  // namespace omnihost::text
