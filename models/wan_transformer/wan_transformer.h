// WanTransformer3DModel (diffusers) on libtorch: Wan2.1 T2V, Wan2.1 I2V / FLF2V (image embedder,
// added key/value projections), Wan2.2 (T2V/I2V-A14B experts, TI2V-5B with per-token timesteps). Loaded from a diffusers `transformer/` folder (config.json +
// diffusion_pytorch_model.safetensors[.index.json]); every parameter maps 1:1 to a checkpoint key and
// a missing or unexpected key is a model_error naming it.
//
//   auto tr = wan_transformer::load(dir / "transformer", {.dtype = at::kFloat});
//   auto text = tr.encode_text(prompt_embeds);                  // once per prompt (cacheable)
//   at::Tensor v = tr.forward(latents, t.expand({B}), *text);   // [B, C_out, F, H, W]
//   // Wan2.1 I2V: the CLIP penultimate hidden states join the text context
//   auto ctx = tr.encode_context(prompt_embeds, clip_hidden_states);
//
// Image context (config image_dim set): encoder_hidden_states_image [B, S, image_dim] (or [2B, S,
// image_dim], image pairs, for first-last-frame models with pos_embed_seq_len = 2 S) goes through
// condition_embedder.image_embedder and every block's add_k_proj/add_v_proj/norm_added_k; the
// cross-attention adds attention over it to the text attention. diffusers splits the joined
// context at (length - 512), so the text must be exactly 512 tokens there (checked).
//
// dtype: fp32, or bf16 with diffusers' mixed-precision behaviour (time_embedder, scale_shift_table
// and norms in fp32; modulation, norms and the self-attention/FFN residuals computed in fp32).
// Thread-safety: forward() is const and keeps no state; concurrent calls are safe.
#pragma once

#include "wan_transformer/wan_transformer_config.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace omnihost::models { class tensor_store; }

namespace omnihost::models::wan {

namespace detail { struct transformer_m; }

// The projected text (condition_embedder.text_embedder output) and every block's cross-attention
// K/V for one batch of prompt embeddings. They depend only on the text and the weights, so the
// pipeline computes them once per prompt instead of once per step (same numbers either way).
struct wan_text_context {
    at::Tensor text;                            // [B, L, d]
    std::vector<std::pair<at::Tensor, at::Tensor>> kv;  // per block: K, V [B, L, heads, head_dim]
    at::Tensor image;                           // image_embedder output [B, S, d]; undefined: none
    std::vector<std::pair<at::Tensor, at::Tensor>> image_kv;  // per block (added projections)
};

struct wan_load_options {
    c10::ScalarType dtype = c10::kFloat;  // kFloat or kBFloat16
    c10::Device device = c10::kCPU;
};

class wan_transformer {
public:
    // `dir` holds config.json and the weights (or pass the config and weights separately).
    static wan_transformer load(const std::filesystem::path &dir, const wan_load_options &opts = {});
    static wan_transformer load(const wan_transformer_config &cfg, const tensor_store &weights,
                                const wan_load_options &opts = {});
    // Weights drawn from N(0, std^2) (biases and norm weights too) with a seeded generator: for
    // benchmarks and demo models only.
    static wan_transformer random(const wan_transformer_config &cfg, uint64_t seed, const wan_load_options &opts = {},
                                  double std = 0.02);

    // hidden_states [B, C_in, F, H, W] (F, H, W divisible by patch_size); timestep [B] (int64 from
    // UniPC or float32 from FlowMatch) or [B, N] float32 per-token (Wan2.2 expand_timesteps, N =
    // number of patches); encoder_hidden_states [B, L, text_dim]. Returns [B, C_out, F, H, W] in the
    // model dtype. Shape errors are model_errors naming the argument.
    // encoder_hidden_states_image: required when the config has image_dim, refused otherwise.
    at::Tensor forward(const at::Tensor &hidden_states, const at::Tensor &timestep,
                       const at::Tensor &encoder_hidden_states,
                       const std::optional<at::Tensor> &encoder_hidden_states_image = std::nullopt) const;
    at::Tensor forward(const at::Tensor &hidden_states, const at::Tensor &timestep,
                       const wan_text_context &text) const;
    std::shared_ptr<const wan_text_context> encode_text(const at::Tensor &encoder_hidden_states) const;
    // Text and (for image_dim models) image context: once per request, reused by every step.
    std::shared_ptr<const wan_text_context> encode_context(
        const at::Tensor &encoder_hidden_states, const std::optional<at::Tensor> &encoder_hidden_states_image) const;

    // Moves every weight to `device` (CPU offload). Copies of a wan_transformer share their weights,
    // so all of them move; text contexts made before the move must be re-encoded.
    void to(c10::Device device);

    // Sequential CPU offload (the pipelines' per-block option): to_except_blocks() puts every
    // weight outside the transformer blocks (embeddings, output head, RoPE tables) on `device` and
    // makes it the compute device, leaving the blocks where they are; block_to() moves one block;
    // the hook runs before (true) and after (false) every block in forward() and encode_context(),
    // so it can move that block in and out. Empty hook: none. Not for concurrent forwards.
    void to_except_blocks(c10::Device device);
    void block_to(size_t block, c10::Device device);
    size_t num_blocks() const;
    void set_block_hook(std::function<void(size_t block, bool before)> hook) { block_hook_ = std::move(hook); }

    const wan_transformer_config &config() const;
    c10::ScalarType dtype() const { return dtype_; }
    c10::Device device() const { return device_; }
    int64_t num_parameters() const;
    // (checkpoint key, tensor) for every parameter, e.g. to save a random model with save_safetensors.
    std::vector<std::pair<std::string, at::Tensor>> named_parameters() const;

    // diffusers' _keep_in_fp32_modules for this model.
    static const std::vector<std::string> &keep_in_fp32_modules();

private:
    std::shared_ptr<detail::transformer_m> m_;
    c10::ScalarType dtype_ = c10::kFloat;
    c10::Device device_ = c10::kCPU;
    std::function<void(size_t, bool)> block_hook_;
};

}  // namespace omnihost::models::wan
