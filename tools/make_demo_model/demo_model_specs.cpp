// Checkpoint key lists for the demo model, derived from the configs the same way diffusers and
// transformers build their modules, so the keys and shapes are those of their state dicts.
#include "demo_model.h"

#include <algorithm>

namespace omnihost::tools {
namespace {

using shape = std::vector<int64_t>;

void linear(std::vector<tensor_spec> &out, const std::string &name, int64_t out_f, int64_t in_f,
            bool bias = true) {
    out.push_back({name + ".weight", {out_f, in_f}});
    if (bias) out.push_back({name + ".bias", {out_f}});
}

void conv(std::vector<tensor_spec> &out, const std::string &name, shape weight) {
    const int64_t out_ch = weight[0];
    out.push_back({name + ".weight", std::move(weight)});
    out.push_back({name + ".bias", {out_ch}});
}

// WanResidualBlock: RMS norms with [C,1,1,1] gammas, causal 3x3x3 convs, 1x1x1 shortcut when
// the channel count changes.
void vae_resnet(std::vector<tensor_spec> &out, const std::string &p, int64_t in, int64_t o) {
    out.push_back({p + ".norm1.gamma", {in, 1, 1, 1}});
    conv(out, p + ".conv1", {o, in, 3, 3, 3});
    out.push_back({p + ".norm2.gamma", {o, 1, 1, 1}});
    conv(out, p + ".conv2", {o, o, 3, 3, 3});
    if (in != o) conv(out, p + ".conv_shortcut", {o, in, 1, 1, 1});
}

void vae_mid_block(std::vector<tensor_spec> &out, const std::string &p, int64_t c) {
    vae_resnet(out, p + ".resnets.0", c, c);
    out.push_back({p + ".attentions.0.norm.gamma", {c, 1, 1}});
    conv(out, p + ".attentions.0.to_qkv", {3 * c, c, 1, 1});
    conv(out, p + ".attentions.0.proj", {c, c, 1, 1});
    vae_resnet(out, p + ".resnets.1", c, c);
}

// Wan2.2 VAE (is_residual): WanResidualDownBlock / WanResidualUpBlock, whose average-pool and
// duplicate shortcuts have no weights; the encoder's dims are base_dim * ([1] + dim_mult), the
// decoder's decoder_base_dim * ([dim_mult[-1]] + reversed(dim_mult)) without the Wan2.1 halving.
std::vector<tensor_spec> wan22_vae_tensor_specs(const demo_vae_config &c) {
    const std::vector<bool> temporal_down{false, true, true};
    const int64_t z = c.z_dim;
    const int64_t io = 3 * int64_t(std::max(c.patch_size, 1)) * std::max(c.patch_size, 1);
    const size_t levels = c.dim_mult.size();
    std::vector<tensor_spec> out;

    std::vector<int64_t> enc{c.base_dim};
    for (int m : c.dim_mult) enc.push_back(int64_t(c.base_dim) * m);
    conv(out, "encoder.conv_in", {enc[0], io, 3, 3, 3});
    for (size_t i = 0; i + 1 < enc.size(); ++i) {
        const std::string p = "encoder.down_blocks." + std::to_string(i);
        int64_t in = enc[i];
        for (int r = 0; r < c.num_res_blocks; ++r) {
            vae_resnet(out, p + ".resnets." + std::to_string(r), in, enc[i + 1]);
            in = enc[i + 1];
        }
        if (i != levels - 1) {
            conv(out, p + ".downsampler.resample.1", {in, in, 3, 3});
            if (temporal_down.at(i)) conv(out, p + ".downsampler.time_conv", {in, in, 3, 1, 1});
        }
    }
    vae_mid_block(out, "encoder.mid_block", enc.back());
    out.push_back({"encoder.norm_out.gamma", {enc.back(), 1, 1, 1}});
    conv(out, "encoder.conv_out", {2 * z, enc.back(), 3, 3, 3});
    conv(out, "quant_conv", {2 * z, 2 * z, 1, 1, 1});
    conv(out, "post_quant_conv", {z, z, 1, 1, 1});

    const int64_t d = c.decoder_base_dim > 0 ? c.decoder_base_dim : c.base_dim;
    std::vector<int64_t> dec{d * c.dim_mult.back()};
    for (auto it = c.dim_mult.rbegin(); it != c.dim_mult.rend(); ++it) dec.push_back(d * *it);
    conv(out, "decoder.conv_in", {dec[0], z, 3, 3, 3});
    vae_mid_block(out, "decoder.mid_block", dec[0]);
    for (size_t i = 0; i + 1 < dec.size(); ++i) {
        const std::string p = "decoder.up_blocks." + std::to_string(i);
        int64_t in = dec[i];
        const int64_t o = dec[i + 1];
        for (int r = 0; r < c.num_res_blocks + 1; ++r) {
            vae_resnet(out, p + ".resnets." + std::to_string(r), in, o);
            in = o;
        }
        if (i != levels - 1) {
            conv(out, p + ".upsampler.resample.1", {o, o, 3, 3});
            if (temporal_down.at(levels - 2 - i)) conv(out, p + ".upsampler.time_conv", {2 * o, o, 3, 1, 1});
        }
    }
    out.push_back({"decoder.norm_out.gamma", {dec.back(), 1, 1, 1}});
    conv(out, "decoder.conv_out", {io, dec.back(), 3, 3, 3});
    return out;
}

}  // namespace

std::vector<tensor_spec> transformer_tensor_specs(const demo_transformer_config &c) {
    const int64_t d = int64_t(c.num_attention_heads) * c.attention_head_dim;
    const int64_t pt = c.patch_size.at(0), ph = c.patch_size.at(1), pw = c.patch_size.at(2);
    std::vector<tensor_spec> out;
    conv(out, "patch_embedding", {d, c.in_channels, pt, ph, pw});
    linear(out, "condition_embedder.time_embedder.linear_1", d, c.freq_dim);
    linear(out, "condition_embedder.time_embedder.linear_2", d, d);
    linear(out, "condition_embedder.time_proj", 6 * d, d);
    linear(out, "condition_embedder.text_embedder.linear_1", d, c.text_dim);
    linear(out, "condition_embedder.text_embedder.linear_2", d, d);
    for (int i = 0; i < c.num_layers; ++i) {
        const std::string b = "blocks." + std::to_string(i);
        for (const char *attn : {".attn1", ".attn2"}) {
            for (const char *proj : {".to_q", ".to_k", ".to_v", ".to_out.0"})
                linear(out, b + attn + proj, d, d);
            out.push_back({b + attn + ".norm_q.weight", {d}});
            out.push_back({b + attn + ".norm_k.weight", {d}});
        }
        out.push_back({b + ".norm2.weight", {d}});
        out.push_back({b + ".norm2.bias", {d}});
        linear(out, b + ".ffn.net.0.proj", c.ffn_dim, d);
        linear(out, b + ".ffn.net.2", d, c.ffn_dim);
        out.push_back({b + ".scale_shift_table", {1, 6, d}});
    }
    linear(out, "proj_out", c.out_channels * pt * ph * pw, d);
    out.push_back({"scale_shift_table", {1, 2, d}});
    return out;
}

std::vector<tensor_spec> text_encoder_tensor_specs(const demo_text_encoder_config &c) {
    const int64_t inner = int64_t(c.num_heads) * c.d_kv;
    std::vector<tensor_spec> out;
    out.push_back({"shared.weight", {c.vocab_size, c.d_model}});
    for (int l = 0; l < c.num_layers; ++l) {
        const std::string b = "encoder.block." + std::to_string(l) + ".layer.";
        for (const char *p : {"q", "k", "v"})
            linear(out, b + "0.SelfAttention." + p, inner, c.d_model, false);
        linear(out, b + "0.SelfAttention.o", c.d_model, inner, false);
        // UMT5: every layer has its own relative position bias (32 buckets).
        out.push_back({b + "0.SelfAttention.relative_attention_bias.weight", {32, c.num_heads}});
        out.push_back({b + "0.layer_norm.weight", {c.d_model}});
        linear(out, b + "1.DenseReluDense.wi_0", c.d_ff, c.d_model, false);
        linear(out, b + "1.DenseReluDense.wi_1", c.d_ff, c.d_model, false);
        linear(out, b + "1.DenseReluDense.wo", c.d_model, c.d_ff, false);
        out.push_back({b + "1.layer_norm.weight", {c.d_model}});
    }
    out.push_back({"encoder.final_layer_norm.weight", {c.d_model}});
    return out;
}

std::vector<tensor_spec> vae_tensor_specs(const demo_vae_config &c) {
    if (c.is_residual) return wan22_vae_tensor_specs(c);
    // Wan2.1 VAE, temperal_downsample [False, True, True], no attention in the down/up blocks.
    const std::vector<bool> temporal_down{false, true, true};
    const int64_t z = c.z_dim;
    const size_t levels = c.dim_mult.size();
    std::vector<tensor_spec> out;

    // Encoder: dims = base * [1] + dim_mult; a flat list of resnets and downsamplers.
    std::vector<int64_t> enc{c.base_dim};
    for (int m : c.dim_mult) enc.push_back(int64_t(c.base_dim) * m);
    conv(out, "encoder.conv_in", {enc[0], 3, 3, 3, 3});
    int flat = 0;
    for (size_t i = 0; i + 1 < enc.size(); ++i) {
        int64_t in = enc[i];
        for (int r = 0; r < c.num_res_blocks; ++r) {
            vae_resnet(out, "encoder.down_blocks." + std::to_string(flat++), in, enc[i + 1]);
            in = enc[i + 1];
        }
        if (i != levels - 1) {
            const std::string p = "encoder.down_blocks." + std::to_string(flat++);
            conv(out, p + ".resample.1", {in, in, 3, 3});
            if (temporal_down.at(i)) conv(out, p + ".time_conv", {in, in, 3, 1, 1});
        }
    }
    vae_mid_block(out, "encoder.mid_block", enc.back());
    out.push_back({"encoder.norm_out.gamma", {enc.back(), 1, 1, 1}});
    conv(out, "encoder.conv_out", {2 * z, enc.back(), 3, 3, 3});
    conv(out, "quant_conv", {2 * z, 2 * z, 1, 1, 1});
    conv(out, "post_quant_conv", {z, z, 1, 1, 1});

    // Decoder: dims = base * ([dim_mult[-1]] + reversed(dim_mult)); block inputs after the first
    // are halved because every upsampler halves the channels.
    std::vector<int64_t> dec{int64_t(c.base_dim) * c.dim_mult.back()};
    for (auto it = c.dim_mult.rbegin(); it != c.dim_mult.rend(); ++it) dec.push_back(int64_t(c.base_dim) * *it);
    conv(out, "decoder.conv_in", {dec[0], z, 3, 3, 3});
    vae_mid_block(out, "decoder.mid_block", dec[0]);
    for (size_t i = 0; i + 1 < dec.size(); ++i) {
        const std::string p = "decoder.up_blocks." + std::to_string(i);
        int64_t in = i > 0 ? dec[i] / 2 : dec[i];
        const int64_t o = dec[i + 1];
        for (int r = 0; r < c.num_res_blocks + 1; ++r) {
            vae_resnet(out, p + ".resnets." + std::to_string(r), in, o);
            in = o;
        }
        if (i != levels - 1) {
            const bool temporal_up = temporal_down.at(levels - 2 - i);  // reversed list
            if (temporal_up) conv(out, p + ".upsamplers.0.time_conv", {2 * o, o, 3, 1, 1});
            conv(out, p + ".upsamplers.0.resample.1", {o / 2, o, 3, 3});
        }
    }
    out.push_back({"decoder.norm_out.gamma", {dec.back(), 1, 1, 1}});
    conv(out, "decoder.conv_out", {3, dec.back(), 3, 3, 3});
    return out;
}

}  // namespace omnihost::tools
