#include "wan_transformer/wan_transformer_config.h"

#include "core/config.h"
#include "core/safetensors.h"  // model_error
#include "wan_transformer/wan_rope.h"

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
    // null (or absent) = not there, as diffusers' None.
    auto optional_int = [&](const char *key) -> std::optional<int64_t> {
        if (!cfg.has(key)) return std::nullopt;
        return cfg.get_int(key, 0);
    };
    c.image_dim = optional_int("image_dim");
    c.added_kv_proj_dim = optional_int("added_kv_proj_dim");
    c.pos_embed_seq_len = optional_int("pos_embed_seq_len");
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
    // Upper bounds first where the value feeds an allocation: an absurd dimension in an untrusted
    // config.json must be a clear error naming the key, not an attempt to allocate it.
    using b = config_bounds;
    auto in_range = [&](int64_t v, int64_t lo, int64_t hi, const char *key) {
        if (v < lo || v > hi)
            throw model_error(o + ": key '" + key + "' is " + std::to_string(v) + ", outside the supported range [" +
                              std::to_string(lo) + ", " + std::to_string(hi) + "]");
    };
    need(patch_size.size() == 3 && patch_size[0] > 0 && patch_size[1] > 0 && patch_size[2] > 0, "patch_size",
         "must be three positive integers");
    for (int64_t p : patch_size) in_range(p, 1, b::max_patch, "patch_size");
    in_range(num_attention_heads, 1, b::max_heads, "num_attention_heads");
    in_range(attention_head_dim, 1, b::max_head_dim, "attention_head_dim");
    need(attention_head_dim % 2 == 0, "attention_head_dim", "must be a positive even number");
    wan_rope_split(attention_head_dim, o);  // throws for a head dim the RoPE cannot split
    in_range(num_attention_heads * attention_head_dim, 1, b::max_dim, "num_attention_heads");
    in_range(in_channels, 1, b::max_channels, "in_channels");
    in_range(out_channels, 1, b::max_channels, "out_channels");
    in_range(text_dim, 1, b::max_dim, "text_dim");
    in_range(freq_dim, 1, b::max_dim, "freq_dim");
    need(freq_dim % 2 == 0, "freq_dim", "must be a positive even number");
    in_range(ffn_dim, 1, b::max_dim, "ffn_dim");
    in_range(num_layers, 0, b::max_layers, "num_layers");
    in_range(rope_max_seq_len, 1, b::max_positions, "rope_max_seq_len");
    need(qk_norm == "rms_norm_across_heads", "qk_norm", "must be \"rms_norm_across_heads\" (got \"" + qk_norm + "\")");
    need(eps > 0, "eps", "must be > 0");
    if (image_dim) in_range(*image_dim, 1, b::max_dim, "image_dim");
    if (added_kv_proj_dim) in_range(*added_kv_proj_dim, 1, b::max_dim, "added_kv_proj_dim");
    if (pos_embed_seq_len) in_range(*pos_embed_seq_len, 1, b::max_positions, "pos_embed_seq_len");
    // The image tokens reach the blocks only through attn2's added projections (and those read the
    // image embedder's output, which is inner_dim wide), so the two keys come together.
    need(image_dim.has_value() == added_kv_proj_dim.has_value(), image_dim ? "added_kv_proj_dim" : "image_dim",
         "must be set together with " + std::string(image_dim ? "image_dim" : "added_kv_proj_dim"));
    if (added_kv_proj_dim)
        need(*added_kv_proj_dim == num_attention_heads * attention_head_dim, "added_kv_proj_dim",
             "must equal num_attention_heads * attention_head_dim (" +
                 std::to_string(num_attention_heads * attention_head_dim) + "): it projects the image embedder's output");
    need(!pos_embed_seq_len || image_dim, "pos_embed_seq_len", "needs image_dim (it belongs to the image embedder)");
}

}  // namespace omnihost::models::wan
