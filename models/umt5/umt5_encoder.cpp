#include "umt5/umt5_encoder.h"

#include "core/safetensors.h"
#include "umt5/umt5_modules.h"

#include "prompt_clean.h"
#include "spm_tokenizer.h"

#include <algorithm>
#include <optional>

namespace omnihost::models {

namespace fs = std::filesystem;
using umt5_detail::encoder_model;
using umt5_detail::encoder_model_impl;

namespace {

bool all_floating_bf16(const tensor_store &store) {
    bool any = false;
    for (const auto &name : store.names()) {
        const auto dtype = store.get(name).scalar_type();  // a view over the mmap: no copy
        if (!at::isFloatingType(dtype)) continue;
        if (dtype != c10::kBFloat16) return false;
        any = true;
    }
    return any;
}

}  // namespace

struct text_encoder::impl {
    umt5_config config;
    text_encoder_options opts;
    c10::ScalarType weight_dtype;
    encoder_model model{nullptr};
    std::optional<text::spm_tokenizer> tokenizer;  // absent for load_encoder()

    impl(umt5_config c, text_encoder_options o, c10::ScalarType w, encoder_model m)
        : config(std::move(c)), opts(o), weight_dtype(w), model(std::move(m)) {}
};

text_encoder text_encoder::load(const fs::path &text_encoder_dir, const fs::path &tokenizer_dir,
                                const text_encoder_options &opts) {
    auto encoder = load_encoder(text_encoder_dir, opts);
    auto tokenizer = text::spm_tokenizer::load(tokenizer_dir);
    if (tokenizer.vocab_size() > encoder.impl_->config.vocab_size) {
        throw model_error(tokenizer.model_path().string() + ": tokenizer vocabulary (" +
                          std::to_string(tokenizer.vocab_size()) + ") is larger than the text encoder's vocab_size (" +
                          std::to_string(encoder.impl_->config.vocab_size) + " in " +
                          (text_encoder_dir / "config.json").string() + ")");
    }
    encoder.impl_->tokenizer.emplace(std::move(tokenizer));
    return encoder;
}

text_encoder text_encoder::load_encoder(const fs::path &text_encoder_dir, const text_encoder_options &opts) {
    if (opts.dtype != c10::kFloat && opts.dtype != c10::kBFloat16) {
        throw model_error(std::string("text encoder dtype ") + c10::toString(opts.dtype) +
                          " is not supported (use float32 or bfloat16)");
    }
    const auto config_file = text_encoder_dir / "config.json";
    auto config = umt5_config::from_json_file(config_file);
    const auto store = tensor_store::open(text_encoder_dir);

    umt5_detail::precision precision{opts.dtype, opts.dtype};
    if (opts.weight_dtype == c10::ScalarType::Undefined) {
        if (opts.dtype == c10::kFloat && all_floating_bf16(store)) precision.storage = c10::kBFloat16;
    } else if (opts.weight_dtype != opts.dtype) {
        if (opts.weight_dtype != c10::kBFloat16 || opts.dtype != c10::kFloat) {
            throw model_error(std::string("text encoder weight_dtype ") + c10::toString(opts.weight_dtype) +
                              " with dtype " + c10::toString(opts.dtype) +
                              " is not supported (only bfloat16 weights computed in float32)");
        }
        precision.storage = c10::kBFloat16;
    }

    // transformers ties encoder.embed_tokens to shared; a file may hold either or both.
    encoder_model_impl::embedding_key key;
    load_options lo;
    lo.dtype = precision.storage;
    lo.device = opts.device;
    lo.ignore_unexpected = {"decoder.", "lm_head."};  // full seq2seq checkpoints: not needed here
    if (store.contains("shared.weight")) {
        key = encoder_model_impl::embedding_key::shared;
        lo.ignore_unexpected.push_back("encoder.embed_tokens.weight");
    } else if (store.contains("encoder.embed_tokens.weight")) {
        key = encoder_model_impl::embedding_key::encoder_embed_tokens;
    } else {
        throw model_error(store.source().string() +
                          ": missing key 'shared.weight' (nor its tied copy 'encoder.embed_tokens.weight')");
    }
    // Only meaningful when computing in bf16; in fp32 compute every weight is used as fp32 anyway.
    if (opts.keep_wo_fp32 && precision.compute != c10::kFloat) lo.keep_fp32 = {"wo"};

    encoder_model model(config, key, precision);
    load_module(*model, store, lo);
    model->eval();
    return text_encoder(std::make_unique<impl>(std::move(config), opts, precision.storage, std::move(model)));
}

at::Tensor text_encoder::forward(const at::Tensor &input_ids, const at::Tensor &attention_mask) const {
    if (input_ids.dim() != 2 || attention_mask.sizes() != input_ids.sizes()) {
        throw model_error("text encoder: input_ids and attention_mask must both be [batch, length]");
    }
    torch::NoGradGuard no_grad;  // not InferenceMode: callers may modify the results in place
    const auto device = impl_->opts.device;
    return impl_->model->forward(input_ids.to(device), attention_mask.to(device));
}

text_embeddings text_encoder::encode(const std::vector<std::string> &prompts, int64_t max_len) const {
    if (!impl_->tokenizer)
        throw model_error("text encoder: encode() needs a tokenizer (loaded with load_encoder(), which has none)");
    if (max_len < 1) throw model_error("max_sequence_length must be >= 1, got " + std::to_string(max_len));
    std::vector<std::string> texts;
    texts.reserve(prompts.size());
    for (const auto &p : prompts) texts.push_back(impl_->opts.clean_prompts ? text::wan_prompt_clean(p) : p);
    auto batch = text::tokenize_padded(*impl_->tokenizer, texts, max_len);
    const int64_t b = batch.batch;

    text_embeddings out;
    out.input_ids = torch::from_blob(batch.input_ids.data(), {b, max_len}, torch::kLong).clone();
    out.attention_mask = torch::from_blob(batch.attention_mask.data(), {b, max_len}, torch::kLong).clone();
    out.seq_lens = batch.seq_lens;
    if (b == 0) {
        out.embeds = torch::zeros({0, max_len, impl_->config.d_model},
                                  torch::TensorOptions().dtype(impl_->opts.dtype).device(impl_->opts.device));
        return out;
    }

    const int64_t run_len =
        impl_->opts.trim_to_longest ? *std::max_element(out.seq_lens.begin(), out.seq_lens.end()) : max_len;
    torch::NoGradGuard no_grad;  // not InferenceMode: callers may modify the results in place
    const auto device = impl_->opts.device;
    const auto hidden = impl_->model->forward(out.input_ids.narrow(1, 0, run_len).to(device),
                                              out.attention_mask.narrow(1, 0, run_len).to(device));
    // WanPipeline: keep each prompt's first seq_len rows, zero the rest up to max_len.
    out.embeds = torch::zeros({b, max_len, hidden.size(2)}, hidden.options());
    for (int64_t i = 0; i < b; ++i) {
        const int64_t n = out.seq_lens[static_cast<size_t>(i)];
        out.embeds[i].narrow(0, 0, n).copy_(hidden[i].narrow(0, 0, n));
    }
    return out;
}

void text_encoder::to(c10::Device device) {
    impl_->model->to(device);
    impl_->opts.device = device;
}

c10::Device text_encoder::device() const { return impl_->opts.device; }
c10::ScalarType text_encoder::dtype() const { return impl_->opts.dtype; }
c10::ScalarType text_encoder::weight_dtype() const { return impl_->weight_dtype; }
const umt5_config &text_encoder::config() const { return impl_->config; }

int64_t text_encoder::parameter_count() const {
    int64_t n = 0;
    for (const auto &p : impl_->model->parameters()) n += p.numel();
    return n;
}

text_encoder::text_encoder(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
text_encoder::text_encoder(text_encoder &&) noexcept = default;
text_encoder &text_encoder::operator=(text_encoder &&) noexcept = default;
text_encoder::~text_encoder() = default;

}  // namespace omnihost::models
