// Writes a Wan2.1 text-to-video model with RANDOM weights in the full diffusers layout
// (model_index.json, scheduler/, text_encoder/, tokenizer/, transformer/, vae/), so omnihost can
// be tried without downloading anything. The video it produces is structured noise: the weights
// are random, not trained. Also used by tests and benchmarks to make models of other shapes
// (e.g. Wan2.1-1.3B-shaped random transformers) without shipping checkpoints.
//
// Every tensor name and shape follows diffusers' WanTransformer3DModel / AutoencoderKLWan (encoder
// side included, so diffusers itself could load the folder) and transformers' UMT5EncoderModel.
// Values come from one seeded CPU generator in a fixed order, so a given seed and config always
// produce byte-identical files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace omnihost::tools {

struct demo_transformer_config {
    int num_attention_heads = 2;
    int attention_head_dim = 24;  // divisible by 6 so all three RoPE parts are non-trivial
    int ffn_dim = 96;
    int num_layers = 2;
    int in_channels = 16;
    int out_channels = 16;
    int text_dim = 32;  // = text encoder d_model
    int freq_dim = 256;
    int rope_max_seq_len = 1024;
    std::vector<int> patch_size{1, 2, 2};
};

struct demo_text_encoder_config {
    int vocab_size = 256;
    int d_model = 32;
    int d_kv = 8;
    int num_heads = 4;
    int d_ff = 64;
    int num_layers = 2;
};

struct demo_vae_config {  // Wan2.1-type VAE by default; Wan2.2-type (TI2V-5B) with is_residual
    int base_dim = 16;
    int z_dim = 16;
    std::vector<int> dim_mult{1, 2, 2, 2};
    int num_res_blocks = 1;
    // Wan2.2 (TI2V-5B) layout: residual down/up blocks with their average/duplicate shortcuts, a
    // decoder of its own width and 2x2 patchify (in/out channels 12, spatial factor 16).
    bool is_residual = false;
    int decoder_base_dim = 0;  // 0 = base_dim
    int patch_size = 0;        // 0 = none (Wan2.1)
};

struct demo_model_options {
    uint64_t seed = 0;
    double flow_shift = 3.0;  // written to scheduler_config.json (recipes may override at load)
    demo_transformer_config transformer;
    demo_text_encoder_config text_encoder;
    demo_vae_config vae;
    // model_index.json's expand_timesteps: the Wan2.2 TI2V-5B path (per-token timesteps, an input
    // image's latent kept fixed as the first frame).
    bool expand_timesteps = false;
    // Instead of random VAE weights, a designed box-filter autoencoder (Wan2.2 layout only): the
    // encoder averages 16x16 blocks, the decoder repeats them, so decode(encode(image)) is the image
    // at 1/16 resolution. The transformer stays random. This makes the image-to-video path
    // checkable end to end: the first output frame must resemble the input image.
    bool reconstructing_vae = false;
    // WanImageToVideoPipeline without an image encoder (the Wan2.2 I2V-A14B conditioning, one
    // expert): the transformer takes the noisy latents, a 4-channel first-frame mask and the
    // encoded image on its channels (in_channels = 2 * z_dim + 4), so an input image is required.
    bool image_to_video = false;
    // Components to write; the others are skipped (e.g. a benchmark only needs "transformer").
    std::vector<std::string> components{"scheduler", "text_encoder", "tokenizer", "transformer", "vae"};
};

// Name and shape of one checkpoint tensor, in the order they are generated.
struct tensor_spec {
    std::string name;
    std::vector<int64_t> shape;
};

std::vector<tensor_spec> transformer_tensor_specs(const demo_transformer_config &c);
std::vector<tensor_spec> text_encoder_tensor_specs(const demo_text_encoder_config &c);
std::vector<tensor_spec> vae_tensor_specs(const demo_vae_config &c);  // either layout

// The TI2V demo: Wan2.2 TI2V-5B's structure (Wan2.2 VAE with z_dim 48 and patchify, a transformer
// with 48 in/out channels, expand_timesteps) at toy size, with the reconstructing VAE. Sizes must
// be multiples of 32 (VAE factor 16 x patch 2), as for the real model.
demo_model_options ti2v_demo_options();

// The I2V demo: the concat-conditioned image-to-video layout above with the random Wan2.1 VAE of
// the text-to-video demo (in_channels 36). Needs an image; its output is noise.
demo_model_options i2v_demo_options();

// Writes the model into `dir` (created if needed). Files are written under temporary names and
// renamed at the end, so an interrupted run never leaves a half-written model that looks complete
// (model_index.json is written last). Throws std::runtime_error with the path on I/O errors.
void write_demo_model(const std::filesystem::path &dir, const demo_model_options &options = {});

// The tokenizer model embedded in the tool (trained by train_demo_tokenizer.cpp).
std::pair<const unsigned char *, size_t> demo_tokenizer_model();

}  // namespace omnihost::tools
