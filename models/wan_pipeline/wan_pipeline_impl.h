// Internal state of a loaded WanPipeline (shared by wan_pipeline_load.cpp and
// wan_pipeline_generate.cpp). Not installed; include only from models/wan_pipeline.
#pragma once

#include "wan_pipeline.h"

#include "clip_vision/clip_image_processor.h"
#include "clip_vision/clip_vision_encoder.h"
#include "core/config.h"
#include "core/offload.h"
#include "schedulers/scheduler.h"
#include "umt5/umt5_encoder.h"
#include "wan_transformer/wan_transformer.h"
#include "wan_vae/wan_vae.h"

#include <memory>
#include <optional>
#include <vector>

namespace omnihost::models::wan {

struct wan_pipeline::impl {
    pipeline_info info;
    pipeline_settings settings;
    load_callbacks callbacks;           // log sink kept for generate-time warnings
    c10::Device compute_device = c10::kCPU;
    c10::ScalarType dtype = c10::kFloat;
    bool offload = false;               // enable_cpu_offload (on the CPU its moves are no-ops)
    std::unique_ptr<model_offloader> offloader;  // in diffusers' model_cpu_offload_seq order
    bool sequential = false;            // sequential_cpu_offload: per-block moves in the transformers
    offload_move_observer block_observer;  // the test hook for the block moves (sequential only)
    std::vector<std::unique_ptr<block_offloader>> block_offloaders;  // one per transformer (sequential)
    bool cuda_graphs = false;           // enforce_eager=false on a device and libtorch that capture

    std::optional<text_encoder> text;   // absent when model_index lists no text encoder
    std::optional<wan_transformer> transformer;
    std::optional<wan_transformer> transformer_2;  // Wan2.2 A14B low-noise expert
    std::optional<wan_vae::vae> vae;
    std::optional<clip_vision_encoder> image_encoder;          // Wan2.1 I2V / FLF2V only
    std::optional<clip_image_processor_config> image_processor;
    json_config scheduler_config;

    bool class_is_i2v = false;          // model_index names WanImageToVideoPipeline

    void log(log_level level, const std::string &message) const {
        if (callbacks.log) callbacks.log(level, message);
    }
};

}  // namespace omnihost::models::wan

namespace omnihost::models::wan::detail {

// The request's image as a [H, W, 3] uint8 CPU tensor; request_error naming `field` when the byte
// count does not match the size or a side is not positive.
at::Tensor image_tensor(const rgb_image &image, const std::string &field);

// VaeImageProcessor.preprocess(image, height, width) for an 8-bit RGB image: Pillow Lanczos resize
// to exactly height x width (skipped at the same size), / 255, * 2 - 1 -> [1, 3, H, W] float32.
at::Tensor preprocess_for_vae(const at::Tensor &image_hwc_u8, int64_t height, int64_t width);

// What WanImageToVideoPipeline.prepare_latents returns besides the noise.
struct image_condition {
    at::Tensor condition;         // expand: normalised latent [1, z, 1, h, w]; else mask + latent [1, 4 + z, F, h, w]
    at::Tensor first_frame_mask;  // expand only: [1, 1, F, h, w] float32, 0 on latent frame 0
};

}  // namespace omnihost::models::wan::detail
