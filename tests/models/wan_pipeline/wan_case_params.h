// What the Wan pipeline parity cases (text-to-video and image-to-video) share: the settings the
// goldens were made with, and the call parameters every case may state. Null or absent = not given
// (the pipeline's default stays).
#pragma once

#include "case_params.h"

#include "wan_pipeline/wan_pipeline.h"

#include <type_traits>

namespace omnihost::parity {

// fp32 on the CPU, no VAE slicing or tiling (the goldens encode and decode plainly), no offload.
inline models::wan::pipeline_settings wan_parity_settings() {
    models::wan::pipeline_settings s;
    s.device = "cpu";
    s.dtype = "fp32";
    s.vae_use_slicing = false;
    s.vae_use_tiling = false;
    s.enable_cpu_offload = false;
    return s;
}

// Sizes, steps and guidance, as the case states them.
inline void read_wan_call_sizes(const nlohmann::json &j, models::wan::generate_request &r) {
    auto number = [&](const char *key, auto &field) {
        if (const auto v = given(j, key)) field = v->template get<std::decay_t<decltype(field)>>();
    };
    number("height", r.height);
    number("width", r.width);
    number("num_frames", r.num_frames);
    number("num_inference_steps", r.num_inference_steps);
    number("guidance_scale", r.guidance_scale);
    if (const auto v = given(j, "guidance_scale_2")) r.guidance_scale_2 = v->get<double>();
}

}  // namespace omnihost::parity
