#include "umt5/umt5_config.h"

#include "core/config.h"
#include "core/safetensors.h"

namespace omnihost::models {
namespace {

// `max`: an upper bound far above every released T5 (config.json is untrusted input and these
// values size the modules built before any weight is read).
int64_t required_positive(const json_config &cfg, const std::string &key, int64_t max) {
    if (!cfg.has(key)) throw model_error(cfg.origin() + ": missing required field '" + key + "'");
    const int64_t v = cfg.get_int(key, 0);
    if (v <= 0) throw model_error(cfg.origin() + ": field '" + key + "' must be > 0, got " + std::to_string(v));
    cfg.check_range(key, v, 1, max);
    return v;
}

}  // namespace

umt5_config umt5_config::from_json_file(const std::filesystem::path &file) {
    const auto cfg = json_config::load(file);
    umt5_config c;
    c.model_type = cfg.get_string("model_type", c.model_type);
    if (c.model_type == "umt5") {
        c.per_layer_relative_bias = true;
    } else if (c.model_type == "t5" || c.model_type == "mt5") {
        c.per_layer_relative_bias = false;
    } else {
        throw model_error(cfg.origin() + ": field 'model_type' is '" + c.model_type +
                          "'; the text encoder supports umt5, t5 and mt5");
    }
    using b = config_bounds;
    c.vocab_size = required_positive(cfg, "vocab_size", b::max_vocab);
    c.d_model = required_positive(cfg, "d_model", b::max_dim);
    c.d_kv = required_positive(cfg, "d_kv", b::max_head_dim);
    c.num_heads = required_positive(cfg, "num_heads", b::max_heads);
    cfg.check_range("num_heads", c.num_heads * c.d_kv, 1, b::max_dim);  // the attention width
    c.d_ff = required_positive(cfg, "d_ff", b::max_dim);
    c.num_layers = required_positive(cfg, "num_layers", b::max_layers);
    c.relative_attention_num_buckets = cfg.get_int("relative_attention_num_buckets", c.relative_attention_num_buckets);
    c.relative_attention_max_distance =
        cfg.get_int("relative_attention_max_distance", c.relative_attention_max_distance);
    if (c.relative_attention_num_buckets < 4 || c.relative_attention_max_distance < 2) {
        throw model_error(cfg.origin() + ": relative_attention_num_buckets/max_distance out of range");
    }
    cfg.check_range("relative_attention_num_buckets", c.relative_attention_num_buckets, 4, 4096);
    cfg.check_range("relative_attention_max_distance", c.relative_attention_max_distance, 2, b::max_positions);
    c.layer_norm_epsilon = cfg.get_double("layer_norm_epsilon", c.layer_norm_epsilon);

    // transformers derives both from feed_forward_proj ("gated-gelu" means gelu_new), and values
    // saved explicitly in the file win over the derived ones.
    const std::string proj = cfg.get_string("feed_forward_proj", "relu");
    const auto dash = proj.find('-');
    c.is_gated_act = dash != std::string::npos && proj.substr(0, dash) == "gated";
    c.dense_act_fn = proj == "gated-gelu" ? "gelu_new" : proj.substr(dash == std::string::npos ? 0 : dash + 1);
    c.is_gated_act = cfg.get_bool("is_gated_act", c.is_gated_act);
    c.dense_act_fn = cfg.get_string("dense_act_fn", c.dense_act_fn);
    if (c.dense_act_fn != "gelu_new" && c.dense_act_fn != "gelu_pytorch_tanh" && c.dense_act_fn != "gelu" &&
        c.dense_act_fn != "relu") {
        throw model_error(cfg.origin() + ": field 'dense_act_fn' is '" + c.dense_act_fn +
                          "'; supported: gelu_new, gelu_pytorch_tanh, gelu, relu");
    }
    return c;
}

}  // namespace omnihost::models
