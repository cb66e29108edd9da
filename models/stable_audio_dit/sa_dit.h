// StableAudioDiTModel (diffusers stable_audio_transformer.py) on libtorch. Loaded from a diffusers
// `transformer/` folder (config.json + diffusion_pytorch_model.safetensors[.index.json]); every
// parameter maps 1:1 to a checkpoint key and a missing or unexpected key is a model_error naming it.
//
//   auto dit = stable_audio::dit::load(dir / "transformer", {.dtype = at::kFloat});
//   auto rope = stable_audio::rotary_pos_embed(dit.config().rotary_dim(), L + 1);  // once
//   auto cond = dit.encode_conditioning(text_audio, global_in);                     // once per prompt batch
//   at::Tensor v = dit.forward(latents, t.unsqueeze(0), *cond, rope);               // per step
//
// Math (op order as diffusers): cross = cross_attention_proj(encoder_hidden_states); g =
// global_proj(global_hidden_states) + timestep_proj(fourier(timestep)); x = preprocess_conv(x) + x;
// tokens = cat(g, proj_in(x^T)); per block: self-attention with partial RoPE, cross-attention to
// `cross` with grouped-query K/V, SwiGLU feed-forward (pre-LayerNorm residuals); proj_out, drop the
// global token, postprocess_conv(x) + x.
//
// dtype: fp32, or bf16 with diffusers' behaviour (everything in bf16 except the RoPE rotation, which
// runs in fp32 and is cast back). Thread-safety: forward() is const and keeps no state.
#pragma once

#include "stable_audio_dit/sa_dit_config.h"
#include "stable_audio_dit/sa_rope.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace omnihost::models { class tensor_store; }

namespace omnihost::models::stable_audio {

namespace detail { struct dit_m; }

struct load_opts {
    c10::ScalarType dtype = c10::kFloat;  // kFloat or kBFloat16
    c10::Device device = c10::kCPU;
};

// Everything that depends only on the conditioning (not on the latents or the timestep): the
// projected cross-attention tokens, every block's cross-attention K/V and the projected global token.
// The pipeline computes it once per generation instead of once per step (same numbers either way).
struct dit_conditioning {
    at::Tensor cross;                                    // [B, S, cross_attention_dim]
    std::vector<std::pair<at::Tensor, at::Tensor>> kv;   // per block: K, V [B, kv_heads, S, head_dim]
    at::Tensor global;                                   // [B, 1, inner_dim] global_proj output (no temb)
};

class dit {
public:
    // `dir` holds config.json and the weights (or pass the config and weights separately).
    static dit load(const std::filesystem::path &dir, const load_opts &opts = {});
    static dit load(const dit_config &cfg, const tensor_store &weights, const load_opts &opts = {});
    // Weights drawn from N(0, std^2) with a seeded generator: for benchmarks and demo models only.
    static dit random(const dit_config &cfg, uint64_t seed, const load_opts &opts = {}, double std = 0.02);

    // encoder_hidden_states [B, S, cross_attention_input_dim] (text tokens + seconds tokens);
    // global_hidden_states [B, 1, global_states_input_dim] (cat(seconds_start, seconds_end) on dim 2).
    std::shared_ptr<const dit_conditioning> encode_conditioning(const at::Tensor &encoder_hidden_states,
                                                                const at::Tensor &global_hidden_states) const;

    // hidden_states [B, in_channels, L]; timestep [1] (broadcast over the batch, as the pipeline
    // passes t.unsqueeze(0)) or [B], the value atan(sigma) * 2 / pi; rope: a table with at least
    // L + 1 rows and rotary_dim() columns (rows beyond L + 1 are ignored). Returns [B, out_channels, L]
    // in the model dtype. Shape errors are model_errors naming the argument. Results (and the
    // conditioning) are made under c10::InferenceMode, as the Wan transformer's: use them in
    // functional ops (CFG, scheduler step); modifying them in place needs an InferenceMode guard.
    at::Tensor forward(const at::Tensor &hidden_states, const at::Tensor &timestep, const dit_conditioning &cond,
                       const rotary_table &rope) const;
    at::Tensor forward(const at::Tensor &hidden_states, const at::Tensor &timestep,
                       const at::Tensor &encoder_hidden_states, const at::Tensor &global_hidden_states,
                       const rotary_table &rope) const;

    // Moves every weight to `device` (CPU offload). Copies of a dit share their weights, so all of
    // them move; conditionings made before the move must be re-encoded.
    void to(c10::Device device);

    const dit_config &config() const;
    c10::ScalarType dtype() const { return dtype_; }
    c10::Device device() const { return device_; }
    int64_t num_parameters() const;
    // (checkpoint key, tensor) for every parameter, e.g. to save a random model with save_safetensors.
    std::vector<std::pair<std::string, at::Tensor>> named_parameters() const;

private:
    std::shared_ptr<detail::dit_m> m_;
    c10::ScalarType dtype_ = c10::kFloat;
    c10::Device device_ = c10::kCPU;
};

}  // namespace omnihost::models::stable_audio
