// Writes the demo model folder: configs as diffusers/transformers write them, random tensors
// through models/core's safetensors writer, and the embedded tokenizer.
#include "demo_model.h"
#include "demo_writer_io.h"

#include "core/safetensors.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <stdexcept>

namespace omnihost::tools {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using detail::write_json;
using detail::write_text;
using detail::write_weights;

const std::vector<double> kWan21LatentsMean = {-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653,
                                               -0.1517, 1.5508,  0.4134,  -0.0715, 0.5517, -0.3632,
                                               -0.1922, -0.9497, 0.2503,  -0.2921};
const std::vector<double> kWan21LatentsStd = {2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708,
                                              2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579,
                                              1.6382, 1.1253, 2.8251, 1.916};

json scheduler_config(double flow_shift) {
    return {{"_class_name", "UniPCMultistepScheduler"}, {"_diffusers_version", "0.35.0"},
            {"beta_end", 0.02}, {"beta_schedule", "linear"}, {"beta_start", 0.0001},
            {"disable_corrector", json::array()}, {"dynamic_thresholding_ratio", 0.995},
            {"final_sigmas_type", "zero"}, {"flow_shift", flow_shift}, {"lower_order_final", true},
            {"num_train_timesteps", 1000}, {"predict_x0", true}, {"prediction_type", "flow_prediction"},
            {"rescale_betas_zero_snr", false}, {"sample_max_value", 1.0}, {"solver_order", 2},
            {"solver_p", nullptr}, {"solver_type", "bh2"}, {"steps_offset", 0},
            {"thresholding", false}, {"timestep_spacing", "linspace"}, {"trained_betas", nullptr},
            {"use_beta_sigmas", false}, {"use_dynamic_shifting", false},
            {"use_exponential_sigmas", false}, {"use_flow_sigmas", true}, {"use_karras_sigmas", false}};
}

json transformer_config(const demo_transformer_config &c) {
    return {{"_class_name", "WanTransformer3DModel"}, {"_diffusers_version", "0.35.0"},
            {"added_kv_proj_dim", nullptr}, {"attention_head_dim", c.attention_head_dim},
            {"cross_attn_norm", true}, {"eps", 1e-6}, {"ffn_dim", c.ffn_dim},
            {"freq_dim", c.freq_dim}, {"image_dim", nullptr}, {"in_channels", c.in_channels},
            {"num_attention_heads", c.num_attention_heads}, {"num_layers", c.num_layers},
            {"out_channels", c.out_channels}, {"patch_size", c.patch_size},
            {"pos_embed_seq_len", nullptr}, {"qk_norm", "rms_norm_across_heads"},
            {"rope_max_seq_len", c.rope_max_seq_len}, {"text_dim", c.text_dim}};
}

json text_encoder_config(const demo_text_encoder_config &c) {
    return {{"architectures", {"UMT5EncoderModel"}}, {"classifier_dropout", 0.0}, {"d_ff", c.d_ff},
            {"d_kv", c.d_kv}, {"d_model", c.d_model}, {"decoder_start_token_id", 0},
            {"dense_act_fn", "gelu_new"}, {"dropout_rate", 0.1}, {"eos_token_id", 1},
            {"feed_forward_proj", "gated-gelu"}, {"initializer_factor", 1.0}, {"is_decoder", false},
            {"is_encoder_decoder", true}, {"is_gated_act", true}, {"layer_norm_epsilon", 1e-6},
            {"model_type", "umt5"}, {"num_decoder_layers", c.num_layers}, {"num_heads", c.num_heads},
            {"num_layers", c.num_layers}, {"pad_token_id", 0},
            {"relative_attention_max_distance", 128}, {"relative_attention_num_buckets", 32},
            {"tie_word_embeddings", false}, {"tokenizer_class", "T5Tokenizer"},
            {"torch_dtype", "float32"}, {"use_cache", true}, {"vocab_size", c.vocab_size}};
}

json vae_config(const demo_vae_config &c) {
    if (c.is_residual) {
        // Wan2.2 layout. The reconstructing VAE's latents are used as they are (mean 0, std 1).
        const int io = 3 * std::max(c.patch_size, 1) * std::max(c.patch_size, 1);
        const std::vector<double> mean(size_t(c.z_dim), 0.0), std(size_t(c.z_dim), 1.0);
        return {{"_class_name", "AutoencoderKLWan"}, {"_diffusers_version", "0.35.0"},
                {"attn_scales", json::array()}, {"base_dim", c.base_dim},
                {"decoder_base_dim", c.decoder_base_dim > 0 ? c.decoder_base_dim : c.base_dim},
                {"dim_mult", c.dim_mult}, {"dropout", 0.0}, {"in_channels", io}, {"is_residual", true},
                {"latents_mean", mean}, {"latents_std", std}, {"num_res_blocks", c.num_res_blocks},
                {"out_channels", io}, {"patch_size", c.patch_size > 0 ? json(c.patch_size) : json(nullptr)},
                {"scale_factor_spatial", 8 * std::max(c.patch_size, 1)}, {"scale_factor_temporal", 4},
                {"temperal_downsample", {false, true, true}}, {"z_dim", c.z_dim}};
    }
    return {{"_class_name", "AutoencoderKLWan"}, {"_diffusers_version", "0.35.0"},
            {"attn_scales", json::array()}, {"base_dim", c.base_dim}, {"decoder_base_dim", nullptr},
            {"dim_mult", c.dim_mult}, {"dropout", 0.0}, {"in_channels", 3}, {"is_residual", false},
            {"latents_mean", kWan21LatentsMean}, {"latents_std", kWan21LatentsStd},
            {"num_res_blocks", c.num_res_blocks}, {"out_channels", 3}, {"patch_size", nullptr},
            {"scale_factor_spatial", 8}, {"scale_factor_temporal", 4},
            {"temperal_downsample", {false, true, true}}, {"z_dim", c.z_dim}};
}

json model_index(const demo_model_options &o) {
    auto has = [&](const char *c) {
        for (const auto &x : o.components) if (x == c) return true;
        return false;
    };
    auto entry = [&](const char *name, const char *lib, const char *cls) {
        return has(name) ? json::array({lib, cls}) : json::array({nullptr, nullptr});
    };
    if (o.image_to_video)
        return {{"_class_name", "WanImageToVideoPipeline"}, {"_diffusers_version", "0.35.0"},
                {"boundary_ratio", nullptr}, {"expand_timesteps", false},
                {"image_encoder", {nullptr, nullptr}}, {"image_processor", {nullptr, nullptr}},
                {"scheduler", entry("scheduler", "diffusers", "UniPCMultistepScheduler")},
                {"text_encoder", entry("text_encoder", "transformers", "UMT5EncoderModel")},
                {"tokenizer", entry("tokenizer", "transformers", "T5TokenizerFast")},
                {"transformer", entry("transformer", "diffusers", "WanTransformer3DModel")},
                {"transformer_2", {nullptr, nullptr}},
                {"vae", entry("vae", "diffusers", "AutoencoderKLWan")}};
    return {{"_class_name", "WanPipeline"}, {"_diffusers_version", "0.35.0"},
            {"boundary_ratio", nullptr}, {"expand_timesteps", o.expand_timesteps},
            {"scheduler", entry("scheduler", "diffusers", "UniPCMultistepScheduler")},
            {"text_encoder", entry("text_encoder", "transformers", "UMT5EncoderModel")},
            {"tokenizer", entry("tokenizer", "transformers", "T5TokenizerFast")},
            {"transformer", entry("transformer", "diffusers", "WanTransformer3DModel")},
            {"transformer_2", {nullptr, nullptr}},
            {"vae", entry("vae", "diffusers", "AutoencoderKLWan")}};
}

// The reconstructing Wan2.2 VAE (demo_model_options::reconstructing_vae). Every convolution of the
// residual branches, the resamplers and the mid-block attention is zero, so each block passes its
// input through its shortcut: the encoder's average-pool shortcuts turn the patchified picture into
// 16x16 block means, the decoder's duplicate shortcuts spread them back. conv_in puts the three
// colour means on channels 0-2 and a constant K on channel 3; the RMS norm before each conv_out
// then divides by about K, which keeps the SiLU in its near-linear range (silu(v) ~ v/2 for
// |v| << 1), and conv_out multiplies by 2K. What comes out is the colour within a few levels.
at::Tensor reconstructing_vae_tensor(const tensor_spec &spec, int patch) {
    constexpr float kConstant = 32.0f;
    const std::string &n = spec.name;
    at::Tensor t = at::zeros(spec.shape, at::TensorOptions().dtype(at::kFloat));
    if (detail::ends_with(n, ".gamma")) t.fill_(1.0f);
    const int64_t sub = int64_t(patch) * patch;  // patchify puts colour c's sub-pixels on c*sub..c*sub+sub-1
    if (n == "encoder.norm_out.gamma" || n == "decoder.norm_out.gamma") {
        t.fill_(float(1.0 / std::sqrt(double(spec.shape[0]))));  // cancels the norm's sqrt(dim)
    } else if (n == "encoder.conv_in.weight") {
        for (int64_t c = 0; c < 3; ++c)
            for (int64_t j = 0; j < sub; ++j) t[c][c * sub + j][2][1][1] = 1.0f / float(sub);
    } else if (n == "encoder.conv_in.bias" || n == "decoder.conv_in.bias") {
        t[3] = kConstant;
    } else if (n == "encoder.conv_out.weight") {
        for (int64_t c = 0; c < 3; ++c) t[c][c][2][1][1] = 2.0f * kConstant;
    } else if (n == "quant_conv.weight" || n == "post_quant_conv.weight") {
        for (int64_t c = 0; c < spec.shape[0]; ++c) t[c][c][0][0][0] = 1.0f;
    } else if (n == "decoder.conv_in.weight") {
        for (int64_t c = 0; c < 3; ++c) t[c][c][2][1][1] = 1.0f;
    } else if (n == "decoder.conv_out.weight") {
        for (int64_t c = 0; c < 3; ++c)
            for (int64_t j = 0; j < sub; ++j) t[c * sub + j][c][2][1][1] = 2.0f * kConstant;
    }
    return t;
}

}  // namespace

demo_model_options ti2v_demo_options() {
    demo_model_options o;
    o.transformer.in_channels = 48;
    o.transformer.out_channels = 48;
    o.vae.is_residual = true;
    o.vae.z_dim = 48;
    o.vae.patch_size = 2;
    // Equal widths at every level, so each shortcut averages/duplicates one channel's own pixels.
    o.vae.base_dim = 16;
    o.vae.decoder_base_dim = 16;
    o.vae.dim_mult = {1, 1, 1, 1};
    o.vae.num_res_blocks = 1;
    o.expand_timesteps = true;
    o.reconstructing_vae = true;
    o.flow_shift = 5.0;  // as Wan2.2 TI2V-5B's scheduler
    return o;
}

demo_model_options i2v_demo_options() {
    demo_model_options o;
    o.transformer.in_channels = 2 * o.vae.z_dim + 4;
    o.image_to_video = true;
    return o;
}

void write_demo_model(const fs::path &dir, const demo_model_options &o) {
    if (o.text_encoder.d_model != o.transformer.text_dim)
        throw std::invalid_argument("demo model: transformer.text_dim must equal text_encoder.d_model");
    // Text-to-video and TI2V feed the transformer the latents alone; concat I2V adds mask + image.
    const int in_expected = o.image_to_video ? 2 * o.vae.z_dim + 4 : o.vae.z_dim;
    if (o.transformer.in_channels != in_expected || o.transformer.out_channels != o.vae.z_dim)
        throw std::invalid_argument("demo model: transformer in_channels must be " + std::to_string(in_expected) +
                                    " and out_channels the VAE's z_dim");
    if (o.reconstructing_vae) {
        if (!o.vae.is_residual || o.vae.patch_size < 1 || o.vae.base_dim < 4 || o.vae.z_dim < 3 ||
            o.vae.decoder_base_dim != o.vae.base_dim ||
            std::any_of(o.vae.dim_mult.begin(), o.vae.dim_mult.end(), [](int m) { return m != 1; }))
            throw std::invalid_argument("demo model: the reconstructing VAE needs the Wan2.2 layout with equal "
                                        "widths (dim_mult all 1, decoder_base_dim = base_dim >= 4)");
    }
    // Everything goes into a sibling staging folder first, then replaces `dir` in one rename.
    fs::create_directories(dir.parent_path().empty() ? fs::path(".") : dir.parent_path());
    const fs::path stage = fs::path(dir.string() + ".partial");
    fs::remove_all(stage);
    fs::create_directories(stage);
    at::Generator gen = at::detail::createCPUGenerator(o.seed);

    for (const auto &component : o.components) {
        const fs::path c = stage / component;
        fs::create_directories(c);
        if (component == "scheduler") {
            write_json(c / "scheduler_config.json", scheduler_config(o.flow_shift));
        } else if (component == "transformer") {
            write_json(c / "config.json", transformer_config(o.transformer));
            write_weights(c / "diffusion_pytorch_model.safetensors",
                          transformer_tensor_specs(o.transformer), gen);
        } else if (component == "text_encoder") {
            write_json(c / "config.json", text_encoder_config(o.text_encoder));
            write_weights(c / "model.safetensors", text_encoder_tensor_specs(o.text_encoder), gen);
        } else if (component == "vae") {
            write_json(c / "config.json", vae_config(o.vae));
            if (o.reconstructing_vae) {
                const int patch = o.vae.patch_size;
                write_weights(c / "diffusion_pytorch_model.safetensors", vae_tensor_specs(o.vae), gen,
                              [patch](const tensor_spec &s, at::Generator &) { return reconstructing_vae_tensor(s, patch); });
            } else {
                write_weights(c / "diffusion_pytorch_model.safetensors", vae_tensor_specs(o.vae), gen);
            }
        } else if (component == "tokenizer") {
            const auto [data, size] = demo_tokenizer_model();
            write_text(c / "spiece.model", std::string(reinterpret_cast<const char *>(data), size));
            write_json(c / "special_tokens_map.json",
                       {{"eos_token", "</s>"}, {"pad_token", "<pad>"}, {"unk_token", "<unk>"}});
            write_json(c / "tokenizer_config.json",
                       {{"additional_special_tokens", json::array()},
                        {"clean_up_tokenization_spaces", true}, {"eos_token", "</s>"},
                        {"extra_ids", 0}, {"model_max_length", 512}, {"pad_token", "<pad>"},
                        {"sp_model_kwargs", json::object()}, {"tokenizer_class", "T5Tokenizer"},
                        {"unk_token", "<unk>"}});
        } else {
            throw std::invalid_argument("demo model: unknown component '" + component + "'");
        }
    }
    write_json(stage / "model_index.json", model_index(o));
    if (o.image_to_video)
        write_text(stage / "README.md",
                   "# omnihost I2V demo model (RANDOM weights)\n\nWritten by omnihost-make-demo-model --i2v. "
                   "It has the layout of diffusers' WanImageToVideoPipeline without an image encoder (the "
                   "Wan2.2 I2V-A14B conditioning, one expert) at toy size: an input image is required; every "
                   "weight is random, so the video is structured noise.\n");
    else if (o.expand_timesteps)
        write_text(stage / "README.md",
                   "# omnihost TI2V demo model (RANDOM transformer)\n\nWritten by omnihost-make-demo-model "
                   "--ti2v. It has the layout and architecture of Wan2.2 TI2V-5B (text/image-to-video) in "
                   "diffusers format at toy size. The transformer and text encoder are random; the VAE is a "
                   "designed box-filter autoencoder (16x16 block means), so with an input image the first "
                   "frame is that image at 1/16 resolution and the rest is structured noise.\n");
    else
        write_text(stage / "README.md",
                   "# omnihost demo model (RANDOM weights)\n\nWritten by omnihost-make-demo-model. It has "
                   "the layout and architecture of Wan2.1 text-to-video in diffusers format, but every "
                   "weight is random: generated videos are structured noise, not pictures of the prompt.\n");
    fs::remove_all(dir);
    fs::rename(stage, dir);
}

}  // namespace omnihost::tools
