#include "stable_audio_dit/sa_dit_config.h"

#include "core/config.h"
#include "core/safetensors.h"  // model_error

namespace omnihost::models::stable_audio {
namespace {

void need(bool ok, const std::string &origin, const char *key, const std::string &what) {
    if (!ok) throw model_error(origin + ": key '" + key + "' " + what);
}

}  // namespace

dit_config dit_config::from_json(const json_config &cfg) {
    dit_config c;
    c.sample_size = cfg.get_int("sample_size", c.sample_size);
    c.in_channels = cfg.get_int("in_channels", c.in_channels);
    c.num_layers = cfg.get_int("num_layers", c.num_layers);
    c.attention_head_dim = cfg.get_int("attention_head_dim", c.attention_head_dim);
    c.num_attention_heads = cfg.get_int("num_attention_heads", c.num_attention_heads);
    c.num_key_value_attention_heads = cfg.get_int("num_key_value_attention_heads", c.num_key_value_attention_heads);
    c.out_channels = cfg.get_int("out_channels", c.out_channels);
    c.cross_attention_dim = cfg.get_int("cross_attention_dim", c.cross_attention_dim);
    c.time_proj_dim = cfg.get_int("time_proj_dim", c.time_proj_dim);
    c.global_states_input_dim = cfg.get_int("global_states_input_dim", c.global_states_input_dim);
    c.cross_attention_input_dim = cfg.get_int("cross_attention_input_dim", c.cross_attention_input_dim);
    c.validate(cfg.origin());
    return c;
}

dit_config dit_config::from_file(const std::filesystem::path &file) { return from_json(json_config::load(file)); }

void dit_config::validate(const std::string &o) const {
    need(sample_size > 0, o, "sample_size", "must be > 0");
    need(in_channels > 0, o, "in_channels", "must be > 0");
    need(num_layers >= 0, o, "num_layers", "must be >= 0");
    // The RoPE table covers head_dim / 2 channels and rotates them as two halves.
    need(attention_head_dim > 0 && attention_head_dim % 4 == 0, o, "attention_head_dim",
         "must be a positive multiple of 4");
    need(num_attention_heads > 0, o, "num_attention_heads", "must be > 0");
    need(num_key_value_attention_heads > 0 && num_attention_heads % num_key_value_attention_heads == 0, o,
         "num_key_value_attention_heads", "must be > 0 and divide num_attention_heads");
    need(out_channels > 0, o, "out_channels", "must be > 0");
    need(cross_attention_dim > 0, o, "cross_attention_dim", "must be > 0");
    need(time_proj_dim > 0 && time_proj_dim % 2 == 0, o, "time_proj_dim", "must be a positive even number");
    need(global_states_input_dim > 0, o, "global_states_input_dim", "must be > 0");
    need(cross_attention_input_dim > 0, o, "cross_attention_input_dim", "must be > 0");
}

projection_config projection_config::from_json(const json_config &cfg) {
    projection_config c;
    c.text_encoder_dim = cfg.get_int("text_encoder_dim", c.text_encoder_dim);
    c.conditioning_dim = cfg.get_int("conditioning_dim", c.conditioning_dim);
    c.min_value = cfg.get_double("min_value", c.min_value);
    c.max_value = cfg.get_double("max_value", c.max_value);
    c.validate(cfg.origin());
    return c;
}

projection_config projection_config::from_file(const std::filesystem::path &file) {
    return from_json(json_config::load(file));
}

void projection_config::validate(const std::string &o) const {
    need(text_encoder_dim > 0, o, "text_encoder_dim", "must be > 0");
    need(conditioning_dim > 0, o, "conditioning_dim", "must be > 0");
    need(max_value > min_value, o, "max_value", "must be greater than min_value");
}

}  // namespace omnihost::models::stable_audio
