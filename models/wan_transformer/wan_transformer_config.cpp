#include "wan_transformer/wan_transformer_config.h"

#include "core/config.h"
#include "core/safetensors.h"  // model_error

namespace omnihost::models::wan {

wan_transformer_config wan_transformer_config::from_json(const json_config &cfg) {
    wan_transformer_config c;
    c.patch_size = cfg.get_int_list("patch_size", c.patch_size);
    c.num_attention_heads = cfg.get_int("num_attention_heads", c.num_attention_heads);
    c.attention_head_dim = cfg.get_int("attention_head_dim", c.attention_head_dim);
    c.in_channels = cfg.get_int("in_channels", c.in_channels);
    c.out_channels = cfg.get_int("out_channels", c.in_channels);  // diffusers: out_channels or in_channels
    c.text_dim = cfg.get_int("text_dim", c.text_dim);
    c.freq_dim = cfg.get_int("freq_dim", c.freq_dim);
    c.ffn_dim = cfg.get_int("ffn_dim", c.ffn_dim);
    c.num_layers = cfg.get_int("num_layers", c.num_layers);
    c.cross_attn_norm = cfg.get_bool("cross_attn_norm", c.cross_attn_norm);
    c.qk_norm = cfg.get_string("qk_norm", c.qk_norm);
    c.eps = cfg.get_double("eps", c.eps);
    c.rope_max_seq_len = cfg.get_int("rope_max_seq_len", c.rope_max_seq_len);
    for (const char *key : {"image_dim", "added_kv_proj_dim", "pos_embed_seq_len"}) {
        if (cfg.has(key))
            throw model_error(cfg.origin() + ": key '" + key +
                              "' is set: image-conditioned (I2V/FLF2V) Wan transformers are not supported");
    }
    c.validate(cfg.origin());
    return c;
}

wan_transformer_config wan_transformer_config::from_file(const std::filesystem::path &file) {
    return from_json(json_config::load(file));
}

void wan_transformer_config::validate(const std::string &o) const {
    auto need = [&](bool ok, const char *key, const std::string &what) {
        if (!ok) throw model_error(o + ": key '" + key + "' " + what);
    };
    need(patch_size.size() == 3 && patch_size[0] > 0 && patch_size[1] > 0 && patch_size[2] > 0, "patch_size",
         "must be three positive integers");
    need(num_attention_heads > 0, "num_attention_heads", "must be > 0");
    need(attention_head_dim > 0 && attention_head_dim % 2 == 0, "attention_head_dim", "must be a positive even number");
    need(in_channels > 0, "in_channels", "must be > 0");
    need(out_channels > 0, "out_channels", "must be > 0");
    need(text_dim > 0, "text_dim", "must be > 0");
    need(freq_dim > 0 && freq_dim % 2 == 0, "freq_dim", "must be a positive even number");
    need(ffn_dim > 0, "ffn_dim", "must be > 0");
    need(num_layers >= 0, "num_layers", "must be >= 0");
    need(rope_max_seq_len > 0, "rope_max_seq_len", "must be > 0");
    need(qk_norm == "rms_norm_across_heads", "qk_norm", "must be \"rms_norm_across_heads\" (got \"" + qk_norm + "\")");
    need(eps > 0, "eps", "must be > 0");
}

}  // namespace omnihost::models::wan
