// Golden parity for the Wan text side: wan21_cases/tokenizer_ids (ids and masks exact) and
// wan21_cases/text_encoder (UMT5EncoderModel last_hidden_state and WanPipeline.encode_prompt's
// zeroed prompt/negative embeddings, atol from the case json). The Wan2.2 tiny models ship the
// same text encoder and tokenizer files (golden README), so the wan21 expectations also check that
// they load and run from their own folders.
#include "golden.h"
#include "parity.h"

#include "umt5/umt5_encoder.h"

#include "prompt_clean.h"
#include "spm_tokenizer.h"

#include <ATen/ATen.h>

namespace {

using namespace omnihost;

std::vector<std::string> strings(const parity::golden_case &gc, const std::string &key) {
    const auto &info = gc.info();
    if (!info.contains(key) || !info[key].is_array()) throw parity::failure(gc.name() + ".json: missing list '" + key + "'");
    return info[key].get<std::vector<std::string>>();
}

at::Tensor as_tensor(const std::vector<int64_t> &v, int64_t rows, int64_t cols) {
    return at::from_blob(const_cast<int64_t *>(v.data()), {rows, cols}, at::kLong).clone();
}

parity::outcome check_text_encoder(const parity::context &ctx, const std::string &model) {
    auto gc = parity::golden_case::load(ctx, "wan21_cases/text_encoder");
    const auto prompts = strings(gc, "prompts");
    const auto cleaned = strings(gc, "cleaned_prompts");
    const int64_t max_len = gc.info().at("max_sequence_length").get<int64_t>();
    const auto encoder = models::text_encoder::load(parity::golden_path(ctx, model + "/text_encoder"),
                                                    parity::golden_path(ctx, model + "/tokenizer"));
    parity::outcome out;
    for (size_t i = 0; i < prompts.size(); ++i) {
        if (text::wan_prompt_clean(prompts[i]) != cleaned[i]) {
            throw parity::failure("prompt_clean(prompts[" + std::to_string(i) + "]) != cleaned_prompts[" +
                                  std::to_string(i) + "]");
        }
    }
    // Tokenisation inside encode(): all five prompts.
    const auto all = encoder.encode(prompts, max_len);
    parity::expect_equal("input_ids", all.input_ids, gc.tensor("input_ids"), out);
    parity::expect_equal("attention_mask", all.attention_mask, gc.tensor("attention_mask"), out);

    // Raw encoder on the golden ids: every row, padded positions included.
    const auto [atol_h, rtol_h] = gc.tolerance("last_hidden_state");
    parity::expect_close("last_hidden_state", encoder.forward(gc.tensor("input_ids"), gc.tensor("attention_mask")),
                         gc.tensor("last_hidden_state"), atol_h, rtol_h, out);

    // encode_prompt(prompts[:-1]) and its default negative prompt "" per prompt.
    const std::vector<std::string> positive(prompts.begin(), prompts.end() - 1);
    const auto [atol_e, rtol_e] = gc.tolerance("prompt_embeds");
    parity::expect_close("prompt_embeds", encoder.encode(positive, max_len).embeds, gc.tensor("prompt_embeds"), atol_e,
                         rtol_e, out);
    const std::vector<std::string> negative(positive.size(), "");
    parity::expect_close("negative_prompt_embeds", encoder.encode(negative, max_len).embeds,
                         gc.tensor("negative_prompt_embeds"), atol_e, rtol_e, out);
    out.note = "atol " + std::to_string(atol_e);
    return out;
}

}  // namespace

PARITY_CASE("wan21/tokenizer_ids") {
    auto gc = parity::golden_case::load(ctx, "wan21_cases/tokenizer_ids");
    const auto tok = text::spm_tokenizer::load(parity::golden_path(ctx, "wan21_tiny/tokenizer"));
    std::vector<std::string> cleaned;
    for (const auto &p : strings(gc, "prompts")) cleaned.push_back(text::wan_prompt_clean(p));
    if (cleaned != strings(gc, "cleaned_prompts")) throw parity::failure("prompt_clean differs from cleaned_prompts");

    parity::outcome out;
    std::vector<int64_t> untruncated;
    for (const auto &c : cleaned) untruncated.push_back(static_cast<int64_t>(tok.encode(c).size()) + 1);
    parity::expect_equal("seq_lens_untruncated",
                         at::from_blob(untruncated.data(), {static_cast<int64_t>(untruncated.size())}, at::kLong).clone(),
                         gc.tensor("seq_lens_untruncated"), out);
    for (const int64_t L : gc.info().at("max_lengths").get<std::vector<int64_t>>()) {
        const auto b = text::tokenize_padded(tok, cleaned, L);
        std::string prefix = "L";
        prefix += std::to_string(L);
        prefix += '.';
        parity::expect_equal(prefix + "input_ids", as_tensor(b.input_ids, b.batch, L), gc.tensor(prefix + "input_ids"), out);
        parity::expect_equal(prefix + "attention_mask", as_tensor(b.attention_mask, b.batch, L),
                             gc.tensor(prefix + "attention_mask"), out);
    }
    out.note = "exact";
    return out;
}

PARITY_CASE("wan21/text_encoder") { return check_text_encoder(ctx, "wan21_tiny"); }
PARITY_CASE("wan22/ti2v_text_encoder") { return check_text_encoder(ctx, "wan22_ti2v_tiny"); }
PARITY_CASE("wan22/a14b_text_encoder") { return check_text_encoder(ctx, "wan22_a14b_tiny"); }
