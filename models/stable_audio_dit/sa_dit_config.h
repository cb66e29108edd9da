// StableAudioDiTModel's and StableAudioProjectionModel's config.json (diffusers). Unknown keys are
// ignored, missing keys take diffusers' defaults (the Stable Audio Open 1.0 values), integers stored
// as floats (sample_size 1024.0) are accepted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace omnihost::models { class json_config; }

namespace omnihost::models::stable_audio {

struct dit_config {
    int64_t sample_size = 1024;  // latent frames the model was trained on (rope table = sample_size + 1)
    int64_t in_channels = 64;
    int64_t num_layers = 24;
    int64_t attention_head_dim = 64;
    int64_t num_attention_heads = 24;
    int64_t num_key_value_attention_heads = 12;  // cross-attention K/V heads (grouped-query attention)
    int64_t out_channels = 64;
    int64_t cross_attention_dim = 768;
    int64_t time_proj_dim = 256;
    int64_t global_states_input_dim = 1536;
    int64_t cross_attention_input_dim = 768;

    int64_t inner_dim() const { return num_attention_heads * attention_head_dim; }
    // Channels of each head that RoPE rotates (diffusers: the table width, attention_head_dim / 2).
    int64_t rotary_dim() const { return attention_head_dim / 2; }

    // model_error naming the origin (file) and key for bad values.
    static dit_config from_json(const json_config &cfg);
    static dit_config from_file(const std::filesystem::path &config_json);
    void validate(const std::string &origin) const;
};

struct projection_config {
    int64_t text_encoder_dim = 768;
    int64_t conditioning_dim = 768;
    double min_value = 0;    // seconds are clamped to [min_value, max_value] before normalising
    double max_value = 512;

    bool text_projection_is_identity() const { return text_encoder_dim == conditioning_dim; }

    static projection_config from_json(const json_config &cfg);
    static projection_config from_file(const std::filesystem::path &config_json);
    void validate(const std::string &origin) const;
};

}  // namespace omnihost::models::stable_audio
