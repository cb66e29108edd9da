// Golden parity of the whole WanPipeline: from embeddings (UniPC and FlowMatchEuler), from a seeded
// generator, from a prompt (tokenizer + UMT5), Wan2.2 A14B (two experts) and TI2V-5B
// (expand_timesteps). Every step's noise predictions and latents are compared, then the frames and
// their export_to_video quantisation.
#include "golden.h"

#include "media/frames.h"
#include "wan_pipeline/wan_pipeline.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

using namespace omnihost::parity;
namespace wan = omnihost::models::wan;
namespace fs = std::filesystem;

namespace {

wan::pipeline_settings parity_settings() {
    wan::pipeline_settings s;
    s.device = "cpu";
    s.dtype = "fp32";
    s.vae_use_slicing = false;  // the pipeline goldens decode plainly
    s.vae_use_tiling = false;
    s.enable_cpu_offload = false;
    return s;
}

// A wan21_tiny view whose scheduler is FlowMatchEulerDiscreteScheduler(shift=7.0), other fields
// default, as the flowmatch golden was produced. Components are symlinked, not copied.
fs::path flowmatch_model(const context &ctx) {
    const fs::path src = golden_path(ctx, "wan21_tiny");
    const fs::path dir = fs::temp_directory_path() / ("wan_pipeline_flowmatch_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "scheduler");
    for (const char *c : {"model_index.json", "text_encoder", "tokenizer", "transformer", "vae"})
        fs::create_symlink(src / c, dir / c);
    std::ofstream(dir / "scheduler" / "scheduler_config.json")
        << R"({"_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000, "shift": 7.0})";
    return dir;
}

struct case_spec {
    const char *golden_case;
    const char *model;        // folder under the golden root ("" = flowmatch view)
    bool from_embeds;         // prompt_embeds / negative_prompt_embeds given
    bool latents_given;       // latents given (else drawn from generator_seed)
    bool from_prompt;         // prompt / negative_prompt strings from the json
};

outcome run_case(const context &ctx, const case_spec &spec) {
    auto gc = golden_case::load(ctx, spec.golden_case);
    const auto &j = gc.info();
    const fs::path model = *spec.model ? golden_path(ctx, spec.model) : flowmatch_model(ctx);
    auto pipe = wan::wan_pipeline::load(model, parity_settings());
    if (!*spec.model) fs::remove_all(model);

    wan::generate_request r;
    r.height = j.at("height").get<int64_t>();
    r.width = j.at("width").get<int64_t>();
    r.num_frames = j.at("num_frames").get<int64_t>();
    r.num_inference_steps = j.at("num_inference_steps").get<int64_t>();
    r.guidance_scale = j.at("guidance_scale").get<double>();
    if (j.contains("guidance_scale_2")) r.guidance_scale_2 = j.at("guidance_scale_2").get<double>();
    r.max_sequence_length = j.at("max_sequence_length").get<int64_t>();
    if (spec.from_embeds) {
        r.prompt_embeds = gc.tensor("prompt_embeds");
        r.negative_prompt_embeds = gc.tensor("negative_prompt_embeds");
    }
    if (spec.from_prompt) {
        r.prompt = j.at("prompt").get<std::string>();
        r.negative_prompt = j.at("negative_prompt").get<std::string>();
    }
    if (spec.latents_given) r.latents = gc.tensor("latents");
    else r.seed = j.at("generator_seed").get<uint64_t>();

    std::vector<wan::step_trace> trace;
    wan::generate_callbacks cb;
    cb.on_step = [&](const wan::step_trace &t) { trace.push_back(t); };
    const auto result = pipe->generate(r, cb);

    outcome out;
    const auto [step_atol, step_rtol] = gc.tolerance("latents_step_i / noise_pred_*");
    const auto [frames_atol, frames_rtol] = gc.tolerance("frames");
    expect_equal("timesteps", result.timesteps, gc.tensor("timesteps"), out);
    if (!spec.latents_given) expect_equal("initial_latents", result.initial_latents, gc.tensor("initial_latents"), out);
    if ((int64_t)trace.size() != r.num_inference_steps) throw failure("wrong number of steps: " + std::to_string(trace.size()));
    if (j.contains("expert_per_step")) {
        for (size_t i = 0; i < trace.size(); ++i) {
            const bool want_second = j["expert_per_step"][i].get<std::string>() == "transformer_2";
            if (trace[i].used_transformer_2 != want_second)
                throw failure("step " + std::to_string(i) + " used the wrong expert");
        }
    }
    for (size_t i = 0; i < trace.size(); ++i) {
        const std::string n = std::to_string(i);
        expect_close("noise_pred_cond_step_" + n, trace[i].noise_pred_cond, gc.tensor("noise_pred_cond_step_" + n), step_atol, step_rtol, out);
        expect_close("noise_pred_uncond_step_" + n, trace[i].noise_pred_uncond, gc.tensor("noise_pred_uncond_step_" + n), step_atol, step_rtol, out);
        expect_close("latents_step_" + n, trace[i].latents, gc.tensor("latents_step_" + n), step_atol, step_rtol, out);
    }
    expect_close("frames", result.frames.unsqueeze(0), gc.tensor("frames"), frames_atol, frames_rtol, out);

    // export_to_video quantisation: values on a k/255 boundary may flip by one.
    const auto q = omnihost::media::quantize_unit_floats(result.frames.data_ptr<float>(), size_t(result.frames.numel()));
    const at::Tensor mine = at::from_blob(const_cast<uint8_t *>(q.data()), {int64_t(q.size())}, at::kByte).to(at::kInt);
    const at::Tensor want = gc.tensor("frames_uint8").reshape({-1}).to(at::kInt);
    const int64_t worst = (mine - want).abs().max().item<int64_t>();
    if (worst > 1) throw failure("frames_uint8 differ by " + std::to_string(worst) + " (> 1)");
    out.note = "steps atol " + std::to_string(step_atol) + ", frames atol " + std::to_string(frames_atol) +
               ", uint8 max diff " + std::to_string(worst);
    return out;
}

}  // namespace

PARITY_CASE("wan21/pipeline_from_embeds") {
    return run_case(ctx, {"wan21_cases/pipeline_from_embeds", "wan21_tiny", true, true, false});
}
PARITY_CASE("wan21/pipeline_from_embeds_flowmatch") {
    return run_case(ctx, {"wan21_cases/pipeline_from_embeds_flowmatch", "", true, true, false});
}
PARITY_CASE("wan21/pipeline_generator") {
    return run_case(ctx, {"wan21_cases/pipeline_generator", "wan21_tiny", true, false, false});
}
PARITY_CASE("wan21/pipeline_from_prompt") {
    return run_case(ctx, {"wan21_cases/pipeline_from_prompt", "wan21_tiny", false, false, true});
}
PARITY_CASE("wan22/a14b_pipeline_from_embeds") {
    return run_case(ctx, {"wan22_cases/a14b_pipeline_from_embeds", "wan22_a14b_tiny", true, true, false});
}
PARITY_CASE("wan22/a14b_pipeline_generator") {
    return run_case(ctx, {"wan22_cases/a14b_pipeline_generator", "wan22_a14b_tiny", true, false, false});
}
PARITY_CASE("wan22/ti2v_pipeline_from_embeds") {
    return run_case(ctx, {"wan22_cases/ti2v_pipeline_from_embeds", "wan22_ti2v_tiny", true, true, false});
}
PARITY_CASE("wan22/ti2v_pipeline_generator") {
    return run_case(ctx, {"wan22_cases/ti2v_pipeline_generator", "wan22_ti2v_tiny", true, false, false});
}
