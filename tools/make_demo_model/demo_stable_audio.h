// Writes a Stable Audio Open text-to-audio model with RANDOM weights in the full diffusers layout
// (model_index.json, projection_model/, scheduler/, text_encoder/, tokenizer/, transformer/, vae/),
// so the in-process audio path can be tried and tested without downloading anything. The audio it
// produces is noise: the weights are random, not trained.
//
// The architecture is Stable Audio Open's, shrunk: a T5 encoder (transformers T5EncoderModel
// layout: relu feed-forward, relative bias in block 0 only), StableAudioProjectionModel,
// StableAudioDiTModel, AutoencoderOobleck with the real strides [2,4,4,8,8] (hop 2048) at 44.1 kHz
// stereo, and CosineDPMSolverMultistepScheduler with the real settings. Only widths, depths and the
// latent length are small. Every tensor name and shape follows diffusers / transformers, so
// diffusers itself could load the folder. Values come from one seeded CPU generator in a fixed
// order: a given seed and config always produce byte-identical files.
#pragma once

#include "demo_model.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace omnihost::tools {

struct demo_sa_transformer_config {  // StableAudioDiTModel
    int num_attention_heads = 4;
    int attention_head_dim = 8;
    int num_key_value_attention_heads = 2;
    int num_layers = 2;
    int in_channels = 8;
    int out_channels = 8;
    int cross_attention_dim = 16;        // = kv heads x head dim, as in the real model (12 x 64)
    int cross_attention_input_dim = 32;  // = projection conditioning_dim
    int global_states_input_dim = 64;    // = 2 x conditioning_dim (seconds_start, seconds_total)
    int time_proj_dim = 16;
    int sample_size = 256;               // latent length: 256 x 2048 / 44100 = 11.89 s of audio
};

struct demo_sa_projection_config {  // StableAudioProjectionModel
    int text_encoder_dim = 32;  // = text encoder d_model; equal to conditioning_dim -> Identity projection
    int conditioning_dim = 32;
    double min_value = 0.0;
    double max_value = 512.0;
};

struct demo_oobleck_config {  // AutoencoderOobleck
    int encoder_hidden_size = 16;    // = 2 x decoder_input_channels (mean and scale)
    int decoder_channels = 4;
    int decoder_input_channels = 8;  // = DiT in_channels
    int audio_channels = 2;
    int sampling_rate = 44100;
    std::vector<int> downsampling_ratios{2, 4, 4, 8, 8};
    std::vector<int> channel_multiples{1, 2, 4, 8, 16};
};

struct demo_stable_audio_options {
    uint64_t seed = 0;
    demo_sa_transformer_config transformer;
    demo_sa_projection_config projection;
    demo_oobleck_config vae;
    demo_text_encoder_config text_encoder;  // written in the T5 (not UMT5) layout
    int max_sequence_length = 128;          // tokenizer model_max_length (Stable Audio's)
    // Components to write; the others are left out of the folder (model_index.json says null).
    std::vector<std::string> components{"projection_model", "scheduler", "text_encoder", "tokenizer",
                                        "transformer", "vae"};
};

std::vector<tensor_spec> sa_transformer_tensor_specs(const demo_sa_transformer_config &c);
std::vector<tensor_spec> sa_projection_tensor_specs(const demo_sa_projection_config &c);
std::vector<tensor_spec> oobleck_tensor_specs(const demo_oobleck_config &c);
// transformers T5EncoderModel (feed_forward_proj "relu"): one `wi`, relative bias in block 0 only.
std::vector<tensor_spec> t5_text_encoder_tensor_specs(const demo_text_encoder_config &c);

// Longest clip the model can make: sample_size x prod(downsampling_ratios) / sampling_rate.
double demo_stable_audio_max_seconds(const demo_stable_audio_options &o);

// Same staging/rename contract as write_demo_model (model_index.json last, one final rename).
// Throws std::invalid_argument for inconsistent configs, std::runtime_error on I/O errors.
void write_demo_stable_audio_model(const std::filesystem::path &dir, const demo_stable_audio_options &options = {});

}  // namespace omnihost::tools
