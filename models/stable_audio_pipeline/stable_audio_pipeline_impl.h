// Internal state of a loaded StableAudioPipeline (shared by the load and generate files). Not
// installed; include only from models/stable_audio_pipeline.
#pragma once

#include "stable_audio_pipeline.h"

#include "core/config.h"
#include "core/offload.h"
#include "oobleck/oobleck_vae.h"
#include "stable_audio_dit/sa_dit.h"
#include "stable_audio_dit/sa_projection.h"
#include "umt5/umt5_encoder.h"

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <memory>
#include <optional>

namespace omnihost::models::stable_audio {

struct stable_audio_pipeline::impl {
    pipeline_info info;
    pipeline_settings settings;
    load_callbacks callbacks;  // log sink kept for generate-time messages
    c10::Device compute_device = c10::kCPU;
    c10::ScalarType dtype = c10::kFloat;
    bool offload = false;  // enable_cpu_offload (on the CPU its moves are no-ops)
    std::unique_ptr<model_offloader> offloader;  // in diffusers' model_cpu_offload_seq order
    bool cuda_graphs = false;  // enforce_eager=false on a device and libtorch that capture graphs

    std::optional<text_encoder> text;  // absent when model_index lists no text encoder
    std::optional<projection_model> projection;
    std::optional<dit> transformer;
    std::optional<oobleck::vae> vae;
    json_config scheduler_config;
    rotary_table rope;  // sample_size + 1 positions, on the compute device

    void log(log_level level, const std::string &message) const {
        if (callbacks.log) callbacks.log(level, message);
    }
};

}  // namespace omnihost::models::stable_audio
