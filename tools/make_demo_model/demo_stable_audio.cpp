// The Stable Audio demo model: key lists derived from the configs the way diffusers builds
// StableAudioDiTModel, StableAudioProjectionModel and AutoencoderOobleck (weight-normed convs
// stored as weight_g / weight_v) and transformers builds T5EncoderModel; then the folder.
#include "demo_stable_audio.h"
#include "demo_writer_io.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

namespace omnihost::tools {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using detail::ends_with;

void linear(std::vector<tensor_spec> &out, const std::string &name, int64_t out_f, int64_t in_f, bool bias) {
    out.push_back({name + ".weight", {out_f, in_f}});
    if (bias) out.push_back({name + ".bias", {out_f}});
}

// torch.nn.utils.weight_norm(dim=0): g has the weight's first dimension, v the weight's shape.
void wn_conv(std::vector<tensor_spec> &out, const std::string &name, int64_t d0, int64_t d1, int64_t k,
             bool bias = true, int64_t bias_size = -1) {
    out.push_back({name + ".weight_g", {d0, 1, 1}});
    out.push_back({name + ".weight_v", {d0, d1, k}});
    if (bias) out.push_back({name + ".bias", {bias_size > 0 ? bias_size : d0}});
}

void snake(std::vector<tensor_spec> &out, const std::string &name, int64_t c) {
    out.push_back({name + ".alpha", {1, c, 1}});
    out.push_back({name + ".beta", {1, c, 1}});
}

void residual_unit(std::vector<tensor_spec> &out, const std::string &p, int64_t c) {
    snake(out, p + ".snake1", c);
    wn_conv(out, p + ".conv1", c, c, 7);
    snake(out, p + ".snake2", c);
    wn_conv(out, p + ".conv2", c, c, 1);
}

void number_conditioner(std::vector<tensor_spec> &out, const std::string &p, int64_t dim) {
    out.push_back({p + ".time_positional_embedding.0.weights", {128}});
    linear(out, p + ".time_positional_embedding.1", dim, 257, true);
}

// Oobleck parameters: the weight-norm magnitude near 1 (a unit-norm filter per channel, as
// weight_norm's initialisation gives) and log-scale Snake parameters near 0 (alpha = beta = 1).
at::Tensor sa_random_tensor(const tensor_spec &spec, at::Generator &gen) {
    const std::string &n = spec.name;
    if (ends_with(n, ".weight_g") || ends_with(n, ".alpha") || ends_with(n, ".beta")) {
        at::Tensor noise = at::randn(spec.shape, gen, at::TensorOptions().dtype(at::kFloat)).mul_(0.1);
        return ends_with(n, ".weight_g") ? noise.add_(1.0) : noise;
    }
    return detail::random_tensor(spec, gen);
}

json scheduler_config() {
    return {{"_class_name", "CosineDPMSolverMultistepScheduler"}, {"_diffusers_version", "0.35.0"},
            {"euler_at_final", false}, {"final_sigmas_type", "zero"}, {"lower_order_final", true},
            {"num_train_timesteps", 1000}, {"prediction_type", "v_prediction"}, {"rho", 7.0},
            {"sigma_data", 1.0}, {"sigma_max", 500.0}, {"sigma_min", 0.3}, {"sigma_schedule", "exponential"},
            {"solver_order", 2}, {"solver_type", "midpoint"}};
}

json transformer_config(const demo_sa_transformer_config &c) {
    return {{"_class_name", "StableAudioDiTModel"}, {"_diffusers_version", "0.35.0"},
            {"attention_head_dim", c.attention_head_dim}, {"cross_attention_dim", c.cross_attention_dim},
            {"cross_attention_input_dim", c.cross_attention_input_dim},
            {"global_states_input_dim", c.global_states_input_dim}, {"in_channels", c.in_channels},
            {"num_attention_heads", c.num_attention_heads},
            {"num_key_value_attention_heads", c.num_key_value_attention_heads}, {"num_layers", c.num_layers},
            {"out_channels", c.out_channels}, {"sample_size", c.sample_size}, {"time_proj_dim", c.time_proj_dim}};
}

json projection_config(const demo_sa_projection_config &c) {
    return {{"_class_name", "StableAudioProjectionModel"}, {"_diffusers_version", "0.35.0"},
            {"conditioning_dim", c.conditioning_dim}, {"max_value", c.max_value}, {"min_value", c.min_value},
            {"text_encoder_dim", c.text_encoder_dim}};
}

json vae_config(const demo_oobleck_config &c) {
    return {{"_class_name", "AutoencoderOobleck"}, {"_diffusers_version", "0.35.0"},
            {"audio_channels", c.audio_channels}, {"channel_multiples", c.channel_multiples},
            {"decoder_channels", c.decoder_channels}, {"decoder_input_channels", c.decoder_input_channels},
            {"downsampling_ratios", c.downsampling_ratios}, {"encoder_hidden_size", c.encoder_hidden_size},
            {"sampling_rate", c.sampling_rate}};
}

json t5_config(const demo_text_encoder_config &c) {
    return {{"architectures", {"T5EncoderModel"}}, {"classifier_dropout", 0.0}, {"d_ff", c.d_ff},
            {"d_kv", c.d_kv}, {"d_model", c.d_model}, {"decoder_start_token_id", 0},
            {"dense_act_fn", "relu"}, {"dropout_rate", 0.1}, {"eos_token_id", 1},
            {"feed_forward_proj", "relu"}, {"initializer_factor", 1.0}, {"is_encoder_decoder", true},
            {"is_gated_act", false}, {"layer_norm_epsilon", 1e-6}, {"model_type", "t5"},
            {"num_decoder_layers", c.num_layers}, {"num_heads", c.num_heads}, {"num_layers", c.num_layers},
            {"pad_token_id", 0}, {"relative_attention_max_distance", 128},
            {"relative_attention_num_buckets", 32}, {"torch_dtype", "float32"}, {"use_cache", true},
            {"vocab_size", c.vocab_size}};
}

json model_index(const demo_stable_audio_options &o) {
    auto has = [&](const char *c) {
        for (const auto &x : o.components)
            if (x == c) return true;
        return false;
    };
    auto entry = [&](const char *name, const char *lib, const char *cls) {
        return has(name) ? json::array({lib, cls}) : json::array({nullptr, nullptr});
    };
    return {{"_class_name", "StableAudioPipeline"}, {"_diffusers_version", "0.35.0"},
            {"projection_model", entry("projection_model", "stable_audio", "StableAudioProjectionModel")},
            {"scheduler", entry("scheduler", "diffusers", "CosineDPMSolverMultistepScheduler")},
            {"text_encoder", entry("text_encoder", "transformers", "T5EncoderModel")},
            {"tokenizer", entry("tokenizer", "transformers", "T5TokenizerFast")},
            {"transformer", entry("transformer", "diffusers", "StableAudioDiTModel")},
            {"vae", entry("vae", "diffusers", "AutoencoderOobleck")}};
}

void check_consistent(const demo_stable_audio_options &o) {
    auto bad = [](const std::string &m) { throw std::invalid_argument("stable audio demo model: " + m); };
    if (o.text_encoder.d_model != o.projection.text_encoder_dim) bad("projection.text_encoder_dim must equal text_encoder.d_model");
    if (o.transformer.cross_attention_input_dim != o.projection.conditioning_dim)
        bad("transformer.cross_attention_input_dim must equal projection.conditioning_dim");
    if (o.transformer.global_states_input_dim != 2 * o.projection.conditioning_dim)
        bad("transformer.global_states_input_dim must be 2 x projection.conditioning_dim");
    if (o.vae.decoder_input_channels != o.transformer.in_channels) bad("vae.decoder_input_channels must equal transformer.in_channels");
    if (o.vae.downsampling_ratios.size() != o.vae.channel_multiples.size())
        bad("vae.downsampling_ratios and vae.channel_multiples must have the same length");
    if (o.transformer.num_attention_heads % o.transformer.num_key_value_attention_heads != 0)
        bad("transformer.num_attention_heads must be a multiple of num_key_value_attention_heads");
}

}  // namespace

std::vector<tensor_spec> sa_transformer_tensor_specs(const demo_sa_transformer_config &c) {
    const int64_t d = int64_t(c.num_attention_heads) * c.attention_head_dim;
    const int64_t kv = int64_t(c.num_key_value_attention_heads) * c.attention_head_dim;
    std::vector<tensor_spec> out;
    out.push_back({"time_proj.weight", {c.time_proj_dim / 2}});
    linear(out, "timestep_proj.0", d, c.time_proj_dim, true);
    linear(out, "timestep_proj.2", d, d, true);
    linear(out, "global_proj.0", d, c.global_states_input_dim, false);
    linear(out, "global_proj.2", d, d, false);
    linear(out, "cross_attention_proj.0", c.cross_attention_dim, c.cross_attention_input_dim, false);
    linear(out, "cross_attention_proj.2", c.cross_attention_dim, c.cross_attention_dim, false);
    out.push_back({"preprocess_conv.weight", {c.in_channels, c.in_channels, 1}});
    linear(out, "proj_in", d, c.in_channels, false);
    for (int i = 0; i < c.num_layers; ++i) {
        const std::string b = "transformer_blocks." + std::to_string(i);
        for (const char *norm : {".norm1", ".norm2", ".norm3"}) {
            out.push_back({b + norm + ".weight", {d}});
            out.push_back({b + norm + ".bias", {d}});
        }
        for (const char *proj : {".attn1.to_q", ".attn1.to_k", ".attn1.to_v", ".attn1.to_out.0"}) linear(out, b + proj, d, d, false);
        linear(out, b + ".attn2.to_q", d, d, false);
        linear(out, b + ".attn2.to_k", kv, c.cross_attention_dim, false);
        linear(out, b + ".attn2.to_v", kv, c.cross_attention_dim, false);
        linear(out, b + ".attn2.to_out.0", d, d, false);
        linear(out, b + ".ff.net.0.proj", 2 * 4 * d, d, true);  // SwiGLU: value and gate halves
        linear(out, b + ".ff.net.2", d, 4 * d, true);
    }
    linear(out, "proj_out", c.out_channels, d, false);
    out.push_back({"postprocess_conv.weight", {c.out_channels, c.out_channels, 1}});
    return out;
}

std::vector<tensor_spec> sa_projection_tensor_specs(const demo_sa_projection_config &c) {
    std::vector<tensor_spec> out;
    if (c.text_encoder_dim != c.conditioning_dim) linear(out, "text_projection", c.conditioning_dim, c.text_encoder_dim, true);
    number_conditioner(out, "start_number_conditioner", c.conditioning_dim);
    number_conditioner(out, "end_number_conditioner", c.conditioning_dim);
    return out;
}

std::vector<tensor_spec> oobleck_tensor_specs(const demo_oobleck_config &c) {
    std::vector<int64_t> mult{1};
    for (int m : c.channel_multiples) mult.push_back(m);
    const size_t n = c.downsampling_ratios.size();
    std::vector<tensor_spec> out;
    // Encoder: conv1, one block per stride (3 residual units, snake, strided conv), snake, conv2.
    const int64_t h = c.encoder_hidden_size;
    wn_conv(out, "encoder.conv1", h, c.audio_channels, 7);
    for (size_t i = 0; i < n; ++i) {
        const std::string p = "encoder.block." + std::to_string(i);
        const int64_t in = h * mult[i], o = h * mult[i + 1];
        for (const char *u : {".res_unit1", ".res_unit2", ".res_unit3"}) residual_unit(out, p + u, in);
        snake(out, p + ".snake1", in);
        wn_conv(out, p + ".conv1", o, in, 2 * int64_t(c.downsampling_ratios[i]));
    }
    snake(out, "encoder.snake1", h * mult[n]);
    wn_conv(out, "encoder.conv2", h, h * mult[n], 3);
    // Decoder: conv1, one block per reversed stride (snake, transposed conv, 3 residual units),
    // snake, conv2 without bias. ConvTranspose1d weights are [in, out, k], so g is per input channel.
    const int64_t dc = c.decoder_channels;
    wn_conv(out, "decoder.conv1", dc * mult[n], c.decoder_input_channels, 7);
    for (size_t i = 0; i < n; ++i) {
        const std::string p = "decoder.block." + std::to_string(i);
        const int64_t in = dc * mult[n - i], o = dc * mult[n - i - 1];
        const int64_t stride = c.downsampling_ratios[n - 1 - i];
        snake(out, p + ".snake1", in);
        wn_conv(out, p + ".conv_t1", in, o, 2 * stride, true, o);
        for (const char *u : {".res_unit1", ".res_unit2", ".res_unit3"}) residual_unit(out, p + u, o);
    }
    snake(out, "decoder.snake1", dc);
    wn_conv(out, "decoder.conv2", c.audio_channels, dc, 7, false);
    return out;
}

std::vector<tensor_spec> t5_text_encoder_tensor_specs(const demo_text_encoder_config &c) {
    const int64_t inner = int64_t(c.num_heads) * c.d_kv;
    std::vector<tensor_spec> out;
    out.push_back({"shared.weight", {c.vocab_size, c.d_model}});
    for (int l = 0; l < c.num_layers; ++l) {
        const std::string b = "encoder.block." + std::to_string(l) + ".layer.";
        for (const char *p : {"q", "k", "v"}) linear(out, b + "0.SelfAttention." + p, inner, c.d_model, false);
        linear(out, b + "0.SelfAttention.o", c.d_model, inner, false);
        if (l == 0) out.push_back({b + "0.SelfAttention.relative_attention_bias.weight", {32, c.num_heads}});
        out.push_back({b + "0.layer_norm.weight", {c.d_model}});
        linear(out, b + "1.DenseReluDense.wi", c.d_ff, c.d_model, false);
        linear(out, b + "1.DenseReluDense.wo", c.d_model, c.d_ff, false);
        out.push_back({b + "1.layer_norm.weight", {c.d_model}});
    }
    out.push_back({"encoder.final_layer_norm.weight", {c.d_model}});
    return out;
}

double demo_stable_audio_max_seconds(const demo_stable_audio_options &o) {
    int64_t hop = 1;
    for (int r : o.vae.downsampling_ratios) hop *= r;
    return double(o.transformer.sample_size) * double(hop) / double(o.vae.sampling_rate);
}

void write_demo_stable_audio_model(const fs::path &dir, const demo_stable_audio_options &o) {
    check_consistent(o);
    fs::create_directories(dir.parent_path().empty() ? fs::path(".") : dir.parent_path());
    const fs::path stage = fs::path(dir.string() + ".partial");
    fs::remove_all(stage);
    fs::create_directories(stage);
    at::Generator gen = at::detail::createCPUGenerator(o.seed);

    for (const auto &component : o.components) {
        const fs::path c = stage / component;
        fs::create_directories(c);
        if (component == "scheduler") {
            detail::write_json(c / "scheduler_config.json", scheduler_config());
        } else if (component == "transformer") {
            detail::write_json(c / "config.json", transformer_config(o.transformer));
            detail::write_weights(c / "diffusion_pytorch_model.safetensors", sa_transformer_tensor_specs(o.transformer),
                                  gen, sa_random_tensor);
        } else if (component == "projection_model") {
            detail::write_json(c / "config.json", projection_config(o.projection));
            detail::write_weights(c / "diffusion_pytorch_model.safetensors", sa_projection_tensor_specs(o.projection),
                                  gen, sa_random_tensor);
        } else if (component == "vae") {
            detail::write_json(c / "config.json", vae_config(o.vae));
            detail::write_weights(c / "diffusion_pytorch_model.safetensors", oobleck_tensor_specs(o.vae), gen,
                                  sa_random_tensor);
        } else if (component == "text_encoder") {
            detail::write_json(c / "config.json", t5_config(o.text_encoder));
            detail::write_weights(c / "model.safetensors", t5_text_encoder_tensor_specs(o.text_encoder), gen,
                                  sa_random_tensor);
        } else if (component == "tokenizer") {
            const auto [data, size] = demo_tokenizer_model();
            detail::write_text(c / "spiece.model", std::string(reinterpret_cast<const char *>(data), size));
            detail::write_json(c / "special_tokens_map.json",
                               {{"eos_token", "</s>"}, {"pad_token", "<pad>"}, {"unk_token", "<unk>"}});
            detail::write_json(c / "tokenizer_config.json",
                               {{"additional_special_tokens", json::array()},
                                {"clean_up_tokenization_spaces", true}, {"eos_token", "</s>"},
                                {"extra_ids", 0}, {"model_max_length", o.max_sequence_length},
                                {"pad_token", "<pad>"}, {"sp_model_kwargs", json::object()},
                                {"tokenizer_class", "T5Tokenizer"}, {"unk_token", "<unk>"}});
        } else {
            throw std::invalid_argument("stable audio demo model: unknown component '" + component + "'");
        }
    }
    detail::write_json(stage / "model_index.json", model_index(o));
    detail::write_text(stage / "README.md",
                       "# omnihost Stable Audio demo model (RANDOM weights)\n\nWritten by omnihost-make-demo-model "
                       "--stable-audio. It has the layout and architecture of Stable Audio Open 1.0 in diffusers "
                       "format (44.1 kHz stereo, Oobleck hop 2048), shrunk, and every weight is random: generated "
                       "audio is noise, not the sound of the prompt.\n");
    fs::remove_all(dir);
    fs::rename(stage, dir);
}

}  // namespace omnihost::tools
