// The CLIP vision encoder as WanImageToVideoPipeline.encode_image uses it (Wan2.1 I2V's
// image_encoder/, a transformers CLIPVisionModel, ViT-H/14): pixel_values -> the penultimate hidden
// states, hidden_states[-2] of output_hidden_states=True, [B, 257, 1280] for ViT-H/14 at 224.
//
// Weights: a transformers folder (config.json + model.safetensors or a sharded index). Parameter
// names equal the checkpoint keys 1:1 under "vision_model." (Wan's image_encoder/ and every
// transformers < 5 save); a checkpoint saved by transformers 5, which drops that prefix, is read the
// same way without it. A missing key, a key the encoder does not have, or a wrong shape is a
// model_error naming it; only "vision_model.embeddings.position_ids" (a buffer old checkpoints
// stored) is skipped.
//
// Thread safety: a loaded encoder is read-only; forward()/encode() may run from one thread at a time.
#pragma once

#include "clip_vision_config.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <filesystem>
#include <memory>

namespace omnihost::models {

struct clip_vision_options {
    c10::ScalarType dtype = c10::kFloat;  // compute and storage dtype: kFloat, kBFloat16 or kHalf
    c10::Device device = c10::kCPU;
};

struct clip_vision_outputs {
    at::Tensor penultimate_hidden_state;  // hidden_states[-2]: [B, positions, hidden]
    at::Tensor last_hidden_state;         // hidden_states[-1] (no post_layernorm, as transformers)
    at::Tensor pooler_output;             // post_layernorm(last_hidden_state[:, 0]): [B, hidden]
};

class clip_vision_encoder {
public:
    // `dir`: folder with config.json + weights. Throws model_error naming the file / key.
    static clip_vision_encoder load(const std::filesystem::path &dir, const clip_vision_options &opts = {});

    // CLIPVisionModel(pixel_values, output_hidden_states=True), the three outputs above.
    // pixel_values: [B, num_channels, image_size, image_size] floating, any device.
    clip_vision_outputs forward(const at::Tensor &pixel_values) const;
    // hidden_states[-2] alone; the last layer, whose output it does not need, is not run.
    at::Tensor encode(const at::Tensor &pixel_values) const;

    void to(c10::Device device);
    c10::Device device() const;
    c10::ScalarType dtype() const;
    const clip_vision_config &config() const;
    int64_t parameter_count() const;

    clip_vision_encoder(clip_vision_encoder &&) noexcept;
    clip_vision_encoder &operator=(clip_vision_encoder &&) noexcept;
    ~clip_vision_encoder();

private:
    struct impl;
    explicit clip_vision_encoder(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace omnihost::models
