// The fields of a transformers CLIPVisionConfig (image_encoder/config.json) the encoder uses.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace omnihost::models {

struct clip_vision_config {
    int64_t hidden_size = 1280;  // ViT-H/14 as Wan2.1 I2V ships it
    int64_t intermediate_size = 5120;
    int64_t num_hidden_layers = 32;
    int64_t num_attention_heads = 16;
    int64_t num_channels = 3;
    int64_t image_size = 224;
    int64_t patch_size = 14;
    // "gelu" (erf GELU; Wan's ViT-H) or "quick_gelu" (x * sigmoid(1.702 x); transformers' default,
    // the OpenAI CLIP checkpoints).
    std::string hidden_act = "quick_gelu";
    double layer_norm_eps = 1e-5;

    int64_t head_dim() const { return hidden_size / num_attention_heads; }
    int64_t grid() const { return image_size / patch_size; }           // patches per side
    int64_t num_positions() const { return grid() * grid() + 1; }      // patches + class token

    // Reads config.json. Unknown keys are ignored; the shape fields (hidden_size,
    // intermediate_size, num_hidden_layers, num_attention_heads, image_size, patch_size) are
    // required; the rest take transformers' defaults. model_type, when present, must be
    // "clip_vision_model". Throws model_error naming the file and the field.
    static clip_vision_config from_json_file(const std::filesystem::path &file);
    static clip_vision_config from_json_text(const std::string &text, const std::string &origin);
};

}  // namespace omnihost::models
