// WanTransformer3DModel's config.json (diffusers). Unknown keys are ignored, missing keys take
// diffusers' defaults. The image-conditioning fields are optional: image_dim (Wan2.1 I2V: the CLIP
// image embedder and the added key/value projections, with added_kv_proj_dim), pos_embed_seq_len
// (first-last-frame: the image embedder's position embedding); null or absent = not there.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace omnihost::models { class json_config; }

namespace omnihost::models::wan {

struct wan_transformer_config {
    std::vector<int64_t> patch_size{1, 2, 2};  // (t, h, w)
    int64_t num_attention_heads = 40;
    int64_t attention_head_dim = 128;
    int64_t in_channels = 16;
    int64_t out_channels = 16;
    int64_t text_dim = 4096;
    int64_t freq_dim = 256;
    int64_t ffn_dim = 13824;
    int64_t num_layers = 40;
    bool cross_attn_norm = true;
    std::string qk_norm = "rms_norm_across_heads";
    double eps = 1e-6;
    int64_t rope_max_seq_len = 1024;
    std::optional<int64_t> image_dim;          // CLIP hidden size fed to condition_embedder.image_embedder
    std::optional<int64_t> added_kv_proj_dim;  // attn2.add_k_proj / add_v_proj input width
    std::optional<int64_t> pos_embed_seq_len;  // image_embedder.pos_embed length (FLF2V: 2 x 257)

    bool has_image_embedder() const { return image_dim.has_value(); }

    int64_t inner_dim() const { return num_attention_heads * attention_head_dim; }
    int64_t patch_volume() const { return patch_size[0] * patch_size[1] * patch_size[2]; }

    // model_error naming the file and key for bad values or unsupported options.
    static wan_transformer_config from_json(const json_config &cfg);
    static wan_transformer_config from_file(const std::filesystem::path &config_json);
    void validate(const std::string &origin) const;
};

}  // namespace omnihost::models::wan
