// What the WanPipeline unit tests (pipeline_test.cpp, offload_test.cpp) set up alike: the tiny
// models' folders, CPU settings with plain VAE decoding, and a small text-to-video request whose
// sizes, steps, guidance and seed each test chooses.
#pragma once

#include "wan_pipeline/wan_pipeline.h"

#include <cstdint>
#include <filesystem>

#ifndef OMNIHOST_GOLDEN_DIR
#error "OMNIHOST_GOLDEN_DIR must be defined"
#endif

namespace wan_pipeline_test {

namespace wan = omnihost::models::wan;
namespace fs = std::filesystem;

inline const fs::path kTiny = fs::path(OMNIHOST_GOLDEN_DIR) / "wan21_tiny";       // Wan2.1, one expert
inline const fs::path kA14b = fs::path(OMNIHOST_GOLDEN_DIR) / "wan22_a14b_tiny";  // Wan2.2 A14B, two experts

// On the CPU, VAE slicing and tiling off (the tests that want tiling turn it on), model offload as asked.
inline wan::pipeline_settings cpu_settings(bool offload = false) {
    wan::pipeline_settings s;
    s.device = "cpu";
    s.vae_use_slicing = false;
    s.vae_use_tiling = false;
    s.enable_cpu_offload = offload;
    return s;
}

struct request_shape {
    int64_t height;
    int64_t width;
    int64_t num_frames;
    int64_t steps;
    double guidance_scale;
    uint64_t seed;
};

// "a cat", 16 text tokens, in the given shape.
inline wan::generate_request text_request(const request_shape &shape) {
    wan::generate_request r;
    r.prompt = "a cat";
    r.height = shape.height;
    r.width = shape.width;
    r.num_frames = shape.num_frames;
    r.num_inference_steps = shape.steps;
    r.guidance_scale = shape.guidance_scale;
    r.max_sequence_length = 16;
    r.seed = shape.seed;
    return r;
}

}  // namespace wan_pipeline_test
