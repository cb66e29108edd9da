// UMT5 (Wan) / T5 text encoder plus its SentencePiece tokenizer, as WanPipeline uses them:
// prompt cleaning -> T5 tokenisation padded to max_sequence_length -> encoder last_hidden_state ->
// rows at and beyond each prompt's length set to zero.
//
// Weights are read from a transformers-format folder (config.json + model.safetensors, or sharded
// model-XXXXX-of-YYYYY.safetensors + model.safetensors.index.json). Parameter names equal the
// checkpoint keys 1:1; a missing key or a key the encoder does not use is an error naming it,
// except these, which an encoder-only model legitimately skips:
//   "encoder.embed_tokens.weight" when "shared.weight" is present (tied copy),
//   "decoder.*" and "lm_head.*" (full seq2seq checkpoints).
//
// Thread safety: a loaded text_encoder is read-only; encode() may run from one thread at a time
// (libtorch intra-op threads are used inside).
#pragma once

#include "umt5_config.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace omnihost::models {

struct text_encoder_options {
    c10::ScalarType dtype = c10::kFloat;  // compute dtype: kFloat or kBFloat16
    c10::Device device = c10::kCPU;
    // Storage dtype of the weights. kBFloat16 with dtype kFloat keeps the weights bf16 in memory
    // (on CPU a bf16 checkpoint stays a zero-copy view of the mmapped file) and upcasts each where it
    // is used. The upcast is exact, so a bf16 checkpoint gives bit-for-bit the results of loading it
    // as fp32, at half the memory (UMT5-XXL: 11.4 GB instead of 22.7 GB); an fp32 checkpoint is
    // rounded to bf16 in this mode. kUndefined (default) = automatic: bf16 storage when computing in
    // fp32 from a checkpoint whose floating tensors are all bf16 (the published Wan repos), else the
    // compute dtype — never a numerical change. kFloat forces fp32 storage (faster per call: no
    // upcasts, twice the memory).
    c10::ScalarType weight_dtype = c10::ScalarType::Undefined;
    // As transformers does for UMT5/T5 (_keep_in_fp32_modules = ["wo"]): in bf16 the FFN output
    // projections stay float32 and the residual stream is promoted accordingly.
    bool keep_wo_fp32 = true;
    // Wan's prompt_clean (html.unescape x2, whitespace collapse). Off for other pipelines.
    bool clean_prompts = true;
    // encode() runs the encoder on the longest real prompt only instead of all max_len positions.
    // Exact up to float rounding: padded keys get softmax weight exactly 0, relative bias depends
    // on positions only, and padded rows are zeroed anyway. (forward() never trims.)
    bool trim_to_longest = true;
};

struct text_embeddings {
    at::Tensor embeds;              // [B, max_len, d_model], encoder dtype, rows >= seq_len are 0
    at::Tensor attention_mask;      // [B, max_len] int64, 1 on real tokens incl. </s>
    at::Tensor input_ids;           // [B, max_len] int64
    std::vector<int64_t> seq_lens;  // real tokens per prompt incl. </s>
};

class text_encoder {
public:
    // `text_encoder_dir`: folder with config.json + weights; `tokenizer_dir`: folder with
    // spiece.model (or the file itself). Throws model_error / tokenizer_error naming the file.
    static text_encoder load(const std::filesystem::path &text_encoder_dir,
                             const std::filesystem::path &tokenizer_dir, const text_encoder_options &opts = {});
    // The encoder alone (no tokenizer): forward() works, encode() throws model_error. For callers
    // that tokenise elsewhere and for encoder goldens that start from token ids. Loads a
    // transformers T5EncoderModel / UMT5EncoderModel folder exactly as load() does.
    static text_encoder load_encoder(const std::filesystem::path &text_encoder_dir,
                                     const text_encoder_options &opts = {});

    // The pipeline's _get_t5_prompt_embeds: one row per prompt. max_len = max_sequence_length.
    text_embeddings encode(const std::vector<std::string> &prompts, int64_t max_len = 512) const;

    // Raw UMT5EncoderModel(input_ids, attention_mask).last_hidden_state, no zeroing, no trimming.
    // input_ids / attention_mask: [B, L] integer tensors on any device.
    at::Tensor forward(const at::Tensor &input_ids, const at::Tensor &attention_mask) const;

    // Moves the weights (CPU offload: keep on CPU, move to the compute device around encode()).
    void to(c10::Device device);
    c10::Device device() const;
    c10::ScalarType dtype() const;         // compute dtype (also the dtype of encode()'s embeds)
    c10::ScalarType weight_dtype() const;  // storage dtype actually chosen
    const umt5_config &config() const;
    int64_t parameter_count() const;

    text_encoder(text_encoder &&) noexcept;
    text_encoder &operator=(text_encoder &&) noexcept;
    ~text_encoder();

private:
    struct impl;
    explicit text_encoder(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace omnihost::models
