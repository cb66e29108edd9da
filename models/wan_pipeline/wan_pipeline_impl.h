// Internal state of a loaded WanPipeline (shared by wan_pipeline_load.cpp and
// wan_pipeline_generate.cpp). Not installed; include only from models/wan_pipeline.
#pragma once

#include "wan_pipeline.h"

#include "core/config.h"
#include "schedulers/scheduler.h"
#include "umt5/umt5_encoder.h"
#include "wan_transformer/wan_transformer.h"
#include "wan_vae/wan_vae.h"

#include <optional>

namespace omnihost::models::wan {

struct wan_pipeline::impl {
    pipeline_info info;
    pipeline_settings settings;
    load_callbacks callbacks;           // log sink kept for generate-time warnings
    c10::Device compute_device = c10::kCPU;
    c10::ScalarType dtype = c10::kFloat;
    bool offload = false;               // enable_cpu_offload on a non-CPU compute device

    std::optional<text_encoder> text;   // absent when model_index lists no text encoder
    std::optional<wan_transformer> transformer;
    std::optional<wan_transformer> transformer_2;  // Wan2.2 A14B low-noise expert
    std::optional<wan_vae::vae> vae;
    json_config scheduler_config;

    void log(log_level level, const std::string &message) const {
        if (callbacks.log) callbacks.log(level, message);
    }
};

}  // namespace omnihost::models::wan
