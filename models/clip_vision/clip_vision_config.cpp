#include "clip_vision/clip_vision_config.h"

#include "core/config.h"
#include "core/model_error.h"

namespace omnihost::models {
namespace {

// config.json is untrusted and these values size modules built before any weight is read, so each
// has an upper bound far above every released CLIP (ViT-bigG/14: 1664 wide, 48 layers, 8192 FFN).
constexpr int64_t max_image_size = 4096;

int64_t required(const json_config &cfg, const std::string &key, int64_t max) {
    if (!cfg.has(key)) throw model_error(cfg.origin() + ": missing required field '" + key + "'");
    return cfg.get_int_in(key, 0, 1, max);
}

clip_vision_config parse(const json_config &cfg) {
    const std::string model_type = cfg.get_string("model_type", "clip_vision_model");
    if (model_type != "clip_vision_model") {
        throw model_error(cfg.origin() + ": field 'model_type' is '" + model_type +
                          "'; the image encoder reads a CLIPVisionModel config (clip_vision_model)");
    }
    using b = config_bounds;
    clip_vision_config c;
    c.hidden_size = required(cfg, "hidden_size", b::max_dim);
    c.intermediate_size = required(cfg, "intermediate_size", b::max_dim);
    c.num_hidden_layers = required(cfg, "num_hidden_layers", b::max_layers);
    c.num_attention_heads = required(cfg, "num_attention_heads", b::max_heads);
    if (c.hidden_size % c.num_attention_heads != 0) {
        throw model_error(cfg.origin() + ": field 'num_attention_heads' (" + std::to_string(c.num_attention_heads) +
                          ") must divide hidden_size (" + std::to_string(c.hidden_size) + ")");
    }
    cfg.check_range("num_attention_heads", c.head_dim(), 1, b::max_head_dim);  // the head width
    c.image_size = required(cfg, "image_size", max_image_size);
    c.patch_size = required(cfg, "patch_size", b::max_patch);
    // The patch convolution floors; an image smaller than one patch has no patches at all.
    cfg.check_range("image_size", c.image_size, c.patch_size, max_image_size);
    c.num_channels = cfg.get_int_in("num_channels", c.num_channels, 1, b::max_channels);
    c.hidden_act = cfg.get_string("hidden_act", c.hidden_act);
    if (c.hidden_act != "gelu" && c.hidden_act != "quick_gelu") {
        throw model_error(cfg.origin() + ": field 'hidden_act' is '" + c.hidden_act + "'; supported: gelu, quick_gelu");
    }
    c.layer_norm_eps = cfg.get_double("layer_norm_eps", c.layer_norm_eps);
    if (!(c.layer_norm_eps > 0.0 && c.layer_norm_eps < 1.0)) {
        throw model_error(cfg.origin() + ": field 'layer_norm_eps' must be in (0, 1), got " +
                          std::to_string(c.layer_norm_eps));
    }
    return c;
}

}  // namespace

clip_vision_config clip_vision_config::from_json_file(const std::filesystem::path &file) {
    return parse(json_config::load(file));
}

clip_vision_config clip_vision_config::from_json_text(const std::string &text, const std::string &origin) {
    return parse(json_config::parse(text, origin));
}

}  // namespace omnihost::models
