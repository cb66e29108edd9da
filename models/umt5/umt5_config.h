// The encoder-relevant fields of a transformers T5/UMT5 config.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace omnihost::models {

struct umt5_config {
    std::string model_type = "umt5";  // "umt5" or "t5"
    int64_t vocab_size = 256384;
    int64_t d_model = 4096;
    int64_t d_kv = 64;
    int64_t num_heads = 64;
    int64_t d_ff = 10240;
    int64_t num_layers = 24;
    int64_t relative_attention_num_buckets = 32;
    int64_t relative_attention_max_distance = 128;
    double layer_norm_epsilon = 1e-6;
    // "gated-gelu" -> gated FFN (wi_0, wi_1, wo) with dense_act_fn; "relu" -> wi, wo.
    bool is_gated_act = true;
    std::string dense_act_fn = "gelu_new";  // "gelu_new" (tanh GELU written out) or "relu"
    // UMT5: every layer has its own relative_attention_bias; T5: only block 0, shared by all.
    bool per_layer_relative_bias = true;

    // Reads `text_encoder/config.json`. Unknown keys are ignored, missing ones take the defaults
    // above, except the shape fields (d_model, d_kv, num_heads, d_ff, num_layers, vocab_size), which
    // are required. Throws model_error naming the file and the field.
    static umt5_config from_json_file(const std::filesystem::path &file);
};

}  // namespace omnihost::models
