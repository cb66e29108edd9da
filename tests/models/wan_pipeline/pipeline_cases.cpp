// Golden parity of the whole WanPipeline: from embeddings (UniPC and FlowMatchEuler), from a seeded
// generator, from a prompt (tokenizer + UMT5), Wan2.2 A14B (two experts) and TI2V-5B
// (expand_timesteps). Every step's noise predictions and latents are compared, then the frames and
// their export_to_video quantisation. Every call parameter (model, scheduler, sizes, steps,
// guidance, seeds, prompts) comes from the case file; null or absent means "not given".
#include "golden.h"
#include "wan_case_params.h"

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


// The case's model folder; when the case names a scheduler ("scheduler": a class with arguments or a
// folder), a view of the model whose scheduler_config.json is that scheduler (components are
// symlinked, not copied). Returns {model dir, temp dir to remove or empty}.
std::pair<fs::path, fs::path> model_for(const context &ctx, const golden_case &gc) {
    const fs::path src = golden_path(ctx, model_folder(gc.info()));
    const auto sched = given(gc.info(), "scheduler");
    if (!sched) return {src, {}};
    const nlohmann::json cfg = scheduler_config(ctx, gc.info(), sched->get<std::string>());
    static int counter = 0;
    const fs::path dir = fs::temp_directory_path() /
                         ("wan_pipeline_case_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir / "scheduler");
    for (const auto &entry : fs::directory_iterator(src))
        if (entry.path().filename() != "scheduler")  // absolute: a relative --golden would dangle from dir
            fs::create_symlink(fs::absolute(entry.path()), dir / entry.path().filename());
    std::ofstream(dir / "scheduler" / "scheduler_config.json") << cfg.dump(2);
    return {dir, dir};
}

outcome run_case(const context &ctx, const std::string &name) {
    auto gc = golden_case::load(ctx, name);
    const auto &j = gc.info();
    const auto [model, temp] = model_for(ctx, gc);
    std::unique_ptr<wan::wan_pipeline> pipe;
    try {
        pipe = wan::wan_pipeline::load(model, wan_parity_settings());
    } catch (...) {
        if (!temp.empty()) fs::remove_all(temp);
        throw;
    }
    if (!temp.empty()) fs::remove_all(temp);

    // Every call parameter the case states; null or absent = not given (the pipeline's default).
    wan::generate_request r;
    read_wan_call_sizes(j, r);
    auto number = [&](const char *key, auto &field) {
        if (const auto v = given(j, key)) field = v->get<std::decay_t<decltype(field)>>();
    };
    number("max_sequence_length", r.max_sequence_length);
    if (const auto v = given(j, "prompt")) r.prompt = v->get<std::string>();
    if (const auto v = given(j, "negative_prompt")) r.negative_prompt = v->get<std::string>();
    if (gc.has("prompt_embeds")) r.prompt_embeds = gc.tensor("prompt_embeds");
    if (gc.has("negative_prompt_embeds")) r.negative_prompt_embeds = gc.tensor("negative_prompt_embeds");
    const bool latents_given = gc.has("latents");
    if (latents_given) r.latents = gc.tensor("latents");
    else if (const auto seed = given(j, "generator_seed")) r.seed = seed->get<uint64_t>();
    else throw failure(name + ": neither latents nor generator_seed given");

    std::vector<wan::step_trace> trace;
    wan::generate_callbacks cb;
    cb.on_step = [&](const wan::step_trace &t) { trace.push_back(t); };
    const auto result = pipe->generate(r, cb);

    outcome out;
    const auto [step_atol, step_rtol] = gc.tolerance("latents_step_i / noise_pred_*");
    const auto [frames_atol, frames_rtol] = gc.tolerance("frames");
    expect_equal("timesteps", result.timesteps, gc.tensor("timesteps"), out);
    if (!latents_given) expect_equal("initial_latents", result.initial_latents, gc.tensor("initial_latents"), out);
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

PARITY_CASE("wan21/pipeline_from_embeds") { return run_case(ctx, "wan21_cases/pipeline_from_embeds"); }
PARITY_CASE("wan21/pipeline_from_embeds_flowmatch") { return run_case(ctx, "wan21_cases/pipeline_from_embeds_flowmatch"); }
PARITY_CASE("wan21/pipeline_generator") { return run_case(ctx, "wan21_cases/pipeline_generator"); }
PARITY_CASE("wan21/pipeline_from_prompt") { return run_case(ctx, "wan21_cases/pipeline_from_prompt"); }
PARITY_CASE("wan22/a14b_pipeline_from_embeds") { return run_case(ctx, "wan22_cases/a14b_pipeline_from_embeds"); }
PARITY_CASE("wan22/a14b_pipeline_generator") { return run_case(ctx, "wan22_cases/a14b_pipeline_generator"); }
PARITY_CASE("wan22/ti2v_pipeline_from_embeds") { return run_case(ctx, "wan22_cases/ti2v_pipeline_from_embeds"); }
PARITY_CASE("wan22/ti2v_pipeline_generator") { return run_case(ctx, "wan22_cases/ti2v_pipeline_generator"); }
