// SentencePiece tokenizer client. It never links libsentencepiece: it dlopen()s the
// omnihost_tokenizer_spm module privately (see omnihost_tokenizer_spm.h for why), so it is safe
// in processes and plugins that use libtorch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer_error.h"

namespace omnihost::text {

// Where the sentencepiece module is looked for, in order:
//  1. $OMNIHOST_TOKENIZER_MODULE (a file path; when set it is the only place looked at),
//  2. beside the binary that contains this code (the plugin .so or the executable),
//  3. the path of the module in the build tree, baked in at build time.
// Throws tokenizer_error listing every place it looked.
std::filesystem::path find_tokenizer_module();

class spm_tokenizer {
public:
    // `model`: a spiece.model file or a folder containing one (a diffusers `tokenizer/` folder).
    // `module`: the sentencepiece module to use; empty = find_tokenizer_module().
    static spm_tokenizer load(const std::filesystem::path &model, const std::filesystem::path &module = {});

    // Ids exactly as SentencePieceProcessor::EncodeAsIds (the model's normaliser applies). No EOS.
    std::vector<int32_t> encode(std::string_view utf8) const;

    int32_t vocab_size() const;
    int32_t eos_id() const;  // -1 when the model has none
    int32_t pad_id() const;  // -1 when the model has none
    const std::filesystem::path &model_path() const;

    spm_tokenizer(spm_tokenizer &&) noexcept;
    spm_tokenizer &operator=(spm_tokenizer &&) noexcept;
    ~spm_tokenizer();

private:
    struct impl;
    explicit spm_tokenizer(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

// A padded batch in the T5 layout: row-major [batch, length].
struct token_batch {
    int64_t batch = 0;
    int64_t length = 0;
    std::vector<int64_t> input_ids;       // batch * length
    std::vector<int64_t> attention_mask;  // batch * length, 1 on real ids including EOS
    std::vector<int64_t> seq_lens;        // real ids per row (= mask sum), after truncation
};

// What T5Tokenizer(padding="max_length", truncation=True, add_special_tokens=True) returns for
// text without literal special-token strings: ids = encode(text)[:L-1] + [eos], padded with
// pad_id to L. `texts` are used as given (clean them first). Throws for max_length < 1.
token_batch tokenize_padded(const spm_tokenizer &tok, const std::vector<std::string> &texts, int64_t max_length);

}  // namespace omnihost::text
