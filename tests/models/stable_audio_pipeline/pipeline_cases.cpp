// Golden parity of the whole StableAudioPipeline (stable_audio_cases/sa_pipeline_*): from given
// latents and from a seeded generator, both from embeddings with the recorded SDE noise injected.
// Checked: initial latents (exact), timesteps (exact), every step's DiT output and latents, the
// crop bounds and the decoded audio. Every call parameter comes from the case file; null or absent
// means "not given".
#include "case_params.h"
#include "golden.h"

#include "stable_audio_pipeline/stable_audio_pipeline.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>

using namespace omnihost::parity;
namespace sa = omnihost::models::stable_audio;

namespace {

outcome run_case(const context &ctx, const std::string &name) {
    auto gc = golden_case::load(ctx, name);
    const auto &j = gc.info();
    sa::pipeline_settings settings;
    settings.device = "cpu";
    settings.dtype = "fp32";
    auto pipe = sa::stable_audio_pipeline::load(golden_path(ctx, model_folder(j)), settings);
    const auto &info = pipe->info();
    for (const auto &[key, have] : {std::pair<const char *, int64_t>{"sampling_rate", info.sampling_rate},
                                    {"hop_length", info.hop_length}})
        if (const auto v = given(j, key); v && v->get<int64_t>() != have)
            throw failure(std::string(key) + " " + std::to_string(have) + " != case's " + v->dump());

    sa::generate_request r;
    if (const auto v = given(j, "audio_start_in_s")) r.audio_start_in_s = v->get<double>();
    if (const auto v = given(j, "audio_end_in_s")) r.audio_end_in_s = v->get<double>();
    if (const auto v = given(j, "num_inference_steps")) r.num_inference_steps = v->get<int64_t>();
    if (const auto v = given(j, "guidance_scale")) r.guidance_scale = v->get<double>();
    if (const auto v = given(j, "num_waveforms_per_prompt")) r.num_waveforms_per_prompt = v->get<int64_t>();
    if (const auto v = given(j, "prompt")) r.prompt = v->get<std::string>();
    if (const auto v = given(j, "negative_prompt")) r.negative_prompt = v->get<std::string>();
    if (gc.has("prompt_embeds")) r.prompt_embeds = gc.tensor("prompt_embeds");
    if (gc.has("attention_mask")) r.attention_mask = gc.tensor("attention_mask");
    if (gc.has("negative_prompt_embeds")) r.negative_prompt_embeds = gc.tensor("negative_prompt_embeds");
    if (gc.has("negative_attention_mask")) r.negative_attention_mask = gc.tensor("negative_attention_mask");
    if (gc.has("injected_noise")) r.injected_noise = gc.tensor("injected_noise");
    const bool latents_given = gc.has("latents");
    if (latents_given) r.latents = gc.tensor("latents");
    if (const auto seed = given(j, "generator_seed")) r.seed = seed->get<uint64_t>();
    else if (!latents_given) throw failure(name + ": neither latents nor generator_seed given");

    std::vector<sa::step_trace> trace;
    sa::generate_callbacks cb;
    cb.on_step = [&](const sa::step_trace &t) { trace.push_back(t); };
    const auto result = pipe->generate(r, cb);

    outcome out;
    const auto [step_atol, step_rtol] = gc.tolerance("latents_step_i");
    const auto [audio_atol, audio_rtol] = gc.tolerance("audio");
    expect_equal("initial_latents_scaled", result.initial_latents_scaled, gc.tensor("initial_latents_scaled"), out);
    expect_equal_reference_kernels("timesteps", result.timesteps, gc.tensor("timesteps"), out);
    for (const auto &[key, have] : {std::pair<const char *, int64_t>{"waveform_start", result.waveform_start},
                                    {"waveform_end", result.waveform_end}})
        if (const auto v = given(j, key); v && v->get<int64_t>() != have)
            throw failure(std::string(key) + " " + std::to_string(have) + " != case's " + v->dump());
    if (static_cast<int64_t>(trace.size()) != r.num_inference_steps)
        throw failure("wrong number of steps: " + std::to_string(trace.size()));
    for (size_t i = 0; i < trace.size(); ++i) {
        const std::string k = std::to_string(i);
        expect_close("transformer_output_step_" + k, trace[i].transformer_output,
                     gc.tensor("transformer_output_step_" + k), step_atol, step_rtol, out);
        expect_close("latents_step_" + k, trace[i].latents, gc.tensor("latents_step_" + k), step_atol, step_rtol, out);
    }
    outcome audio_out;  // reported on its own: the step latents are O(500), the audio O(1)
    expect_close("audio", result.audio, gc.tensor("audio"), audio_atol, audio_rtol, audio_out);
    char buf[160];
    std::snprintf(buf, sizeof buf, "steps max_abs %.2g (atol %g), audio max_abs %.2g (atol %g)", out.max_abs, step_atol,
                  audio_out.max_abs, audio_atol);
    out.max_abs = std::max(out.max_abs, audio_out.max_abs);
    out.max_rel = std::max(out.max_rel, audio_out.max_rel);
    out.note = buf;
    return out;
}

}  // namespace

PARITY_CASE("stable_audio/sa_pipeline_from_embeds") { return run_case(ctx, "stable_audio_cases/sa_pipeline_from_embeds"); }
PARITY_CASE("stable_audio/sa_pipeline_generator") { return run_case(ctx, "stable_audio_cases/sa_pipeline_generator"); }
