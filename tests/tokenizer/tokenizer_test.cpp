// Tokenizer client, T5 padding and Wan prompt cleaning. Expected strings for html_unescape and
// strip were produced with CPython 3.11's html.unescape / str.strip on this machine.
#include "golden_ids.h"
#include "prompt_clean.h"
#include "spm_tokenizer.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <functional>

#include <unistd.h>

using namespace omnihost::text;
namespace fs = std::filesystem;

namespace {

fs::path tokenizer_dir() { return omnihost::test::golden_dir() / "wan21_tiny" / "tokenizer"; }

const spm_tokenizer &golden_tokenizer() {
    static const spm_tokenizer tok = spm_tokenizer::load(tokenizer_dir());
    return tok;
}

std::string what_of(const std::function<void()> &fn) {
    try {
        fn();
    } catch (const std::exception &e) {
        return e.what();
    }
    return "<no exception>";
}

}  // namespace

TEST_CASE("html_unescape follows Python's html.unescape") {
    CHECK(html_unescape("&amp;amp;") == "&amp;");
    CHECK(html_unescape(html_unescape("&amp;amp;")) == "&");
    CHECK(html_unescape("&ampfoo") == "&foo");  // legacy name as a prefix
    CHECK(html_unescape("&amp") == "&");
    CHECK(html_unescape("&lt;b&gt;") == "<b>");
    CHECK(html_unescape("&#39;&#x41;&#X42") == "'AB");
    CHECK(html_unescape("&#128;&#0;&#13;&#1;&#xD800;&#1114112;&#65534;") == "\u20ac\ufffd\r\ufffd\ufffd");
    CHECK(html_unescape("&#99999999999999999999;") == "\ufffd");
    CHECK(html_unescape("&hellip;&hellip") == "\u2026&hellip");  // ';' required for non-legacy names
    CHECK(html_unescape("&copy2024") == "\u00a92024");
    CHECK(html_unescape("& amp;") == "& amp;");
    CHECK(html_unescape("&;") == "&;");
    CHECK(html_unescape("&#;") == "&#;");
    CHECK(html_unescape("&#xg") == "&#xg");
    CHECK(html_unescape("caf&eacute; &Eacute") == "caf\u00e9 \u00c9");
    CHECK(html_unescape("&notin; &notit;") == "\u2209 \u00acit;");
    CHECK(html_unescape("&apos;&quot;&nbsp;&mdash;&euro;&alpha;&Omega;") == "'\"\u00a0\u2014\u20ac\u03b1\u03a9");
    CHECK(html_unescape("x &") == "x &");
    CHECK(html_unescape("no entities at all") == "no entities at all");
    // HTML5 names, including two-code-point values, and a full name beating its legacy prefix.
    CHECK(html_unescape("&NotNestedGreaterGreater;") == "\u2aa2\u0338");
    CHECK(html_unescape("&centerdot;&centerdot") == "\u00b7\u00a2erdot");
    CHECK(html_unescape("&" + std::string(40, 'a') + ";") == "&" + std::string(40, 'a') + ";");
}

TEST_CASE("whitespace: strip uses str.isspace, collapsing uses regex's Unicode \\s") {
    CHECK(strip_whitespace("\x1c a \x1f") == "a");
    CHECK(strip_whitespace("\u3000\u00a0x\u2029") == "x");
    CHECK(strip_whitespace("   ") == "");
    CHECK(collapse_whitespace("a\x1c b") == "a\x1c b");  // U+001C is not White_Space for `regex`
    CHECK(collapse_whitespace("a \t\n\u00a0\u3000 b  c ") == "a b c");
    CHECK(collapse_whitespace("\xff  \xfe") == "\xff \xfe");  // invalid UTF-8 kept as is
}

TEST_CASE("wan_prompt_clean reproduces the golden cleaned prompts") {
    const auto meta = nlohmann::json::parse(
        omnihost::test::read_file(omnihost::test::golden_dir() / "wan21_cases" / "tokenizer_ids.json"));
    const auto prompts = meta.at("prompts").get<std::vector<std::string>>();
    const auto cleaned = meta.at("cleaned_prompts").get<std::vector<std::string>>();
    REQUIRE(prompts.size() == cleaned.size());
    for (size_t i = 0; i < prompts.size(); ++i) {
        CAPTURE(prompts[i]);
        CHECK(wan_prompt_clean(prompts[i]) == cleaned[i]);
    }
    CHECK(wan_prompt_clean("  &amp;lt;tag&amp;gt;\n\n x ") == "<tag> x");
}

TEST_CASE("token ids and masks equal the golden tokenizer_ids case exactly (L=16 and L=512)") {
    const auto dir = omnihost::test::golden_dir() / "wan21_cases";
    const auto meta = nlohmann::json::parse(omnihost::test::read_file(dir / "tokenizer_ids.json"));
    const auto golden = omnihost::test::read_i64_safetensors(dir / "tokenizer_ids.safetensors");
    std::vector<std::string> cleaned;
    for (const auto &p : meta.at("prompts")) cleaned.push_back(wan_prompt_clean(p.get<std::string>()));

    const auto &untruncated = golden.at("seq_lens_untruncated").values;
    for (size_t i = 0; i < cleaned.size(); ++i) {
        CHECK(static_cast<int64_t>(golden_tokenizer().encode(cleaned[i]).size()) + 1 == untruncated[i]);
    }
    for (const int64_t L : {16, 512}) {
        CAPTURE(L);
        const auto b = tokenize_padded(golden_tokenizer(), cleaned, L);
        const auto &ids = golden.at(std::string("L") + std::to_string(L) + ".input_ids");
        const auto &mask = golden.at(std::string("L") + std::to_string(L) + ".attention_mask");
        REQUIRE(ids.shape == std::vector<int64_t>{static_cast<int64_t>(cleaned.size()), L});
        CHECK(b.input_ids == ids.values);
        CHECK(b.attention_mask == mask.values);
    }
}

TEST_CASE("truncation keeps L-1 ids and appends </s>; empty prompt is just </s>") {
    const auto &tok = golden_tokenizer();
    CHECK(tok.eos_id() == 1);
    CHECK(tok.pad_id() == 0);
    CHECK(tok.vocab_size() == 256);
    const std::string text = "The musician swims around the ocean waves as a watercolor painting.";
    const auto full = tok.encode(text);
    REQUIRE(full.size() > 6);

    const auto b = tokenize_padded(tok, {text, ""}, 5);
    CHECK(b.batch == 2);
    CHECK(b.length == 5);
    CHECK(b.input_ids == std::vector<int64_t>{full[0], full[1], full[2], full[3], 1, 1, 0, 0, 0, 0});
    CHECK(b.attention_mask == std::vector<int64_t>{1, 1, 1, 1, 1, 1, 0, 0, 0, 0});
    CHECK(b.seq_lens == std::vector<int64_t>{5, 1});

    const auto one = tokenize_padded(tok, {text}, 1);
    CHECK(one.input_ids == std::vector<int64_t>{1});
    CHECK(tok.encode("").empty());
    CHECK(what_of([&] { tokenize_padded(tok, {text}, 0); }).find("max_sequence_length") != std::string::npos);
}

TEST_CASE("a missing or corrupt tokenizer model is an error naming the file") {
    const fs::path tmp = fs::temp_directory_path() / ("omnihost_tok_test_" + std::to_string(::getpid()));
    fs::create_directories(tmp);
    CHECK(what_of([&] { spm_tokenizer::load(tmp / "nope.model"); }).find("nope.model") != std::string::npos);
    const auto folder_msg = what_of([&] { spm_tokenizer::load(tmp); });
    CHECK(folder_msg.find("spiece.model") != std::string::npos);
    {
        std::ofstream(tmp / "spiece.model") << "this is not a protobuf model";
    }
    const auto corrupt_msg = what_of([&] { spm_tokenizer::load(tmp); });
    CHECK(corrupt_msg.find((tmp / "spiece.model").string()) != std::string::npos);
    fs::remove_all(tmp);
}

TEST_CASE("a missing sentencepiece module is an error naming where it looked") {
    const auto explicit_msg = what_of([&] { spm_tokenizer::load(tokenizer_dir(), "/nonexistent/libspm.so"); });
    CHECK(explicit_msg.find("/nonexistent/libspm.so") != std::string::npos);

    ::setenv("OMNIHOST_TOKENIZER_MODULE", "/nonexistent/libomnihost_tokenizer_spm.so", 1);
    const auto env_msg = what_of([&] { find_tokenizer_module(); });
    ::unsetenv("OMNIHOST_TOKENIZER_MODULE");
    CHECK(env_msg.find("OMNIHOST_TOKENIZER_MODULE=/nonexistent/libomnihost_tokenizer_spm.so") != std::string::npos);

    // Without the override the module of this build tree is found.
    CHECK(fs::is_regular_file(find_tokenizer_module()));
}
