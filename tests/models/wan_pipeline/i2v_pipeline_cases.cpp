// Golden parity of WanImageToVideoPipeline (tests/golden_local/i2v_cases, made by
// scripts/golden/make_i2v_cases.py): TI2V-5B (image latent as frame 0, expand_timesteps), Wan2.1
// I2V (CLIP tokens + mask/latent concat), Wan2.1 FLF2V, I2V-A14B with two experts (and with a last
// image). Checked: the preprocessed image(s), CLIP image embeds, the initial noise, the condition,
// every step's noise predictions and latents, the decoded frames. Every call parameter comes from
// the case file; null or absent means "not given".
#include "golden.h"
#include "wan_case_params.h"

#include "wan_pipeline/wan_pipeline.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

using namespace omnihost::parity;
namespace wan = omnihost::models::wan;
namespace fs = std::filesystem;

namespace {

// A model folder assembled from the case's "model_index" and "components" (symlinks; "local:" =
// under tests/golden_local, "golden:" = under the shared golden root). Removed with the object.
struct assembled_model {
    fs::path dir;
    assembled_model(const context &ctx, const nlohmann::json &info) {
        static int counter = 0;
        dir = fs::temp_directory_path() / ("wan_i2v_case_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::remove_all(dir);
        fs::create_directories(dir);
        std::ofstream(dir / "model_index.json") << info.at("model_index").dump(2);
        for (const auto &[name, ref_json] : info.at("components").items()) {
            const auto ref = ref_json.get<std::string>();
            const auto colon = ref.find(':');
            if (colon == std::string::npos) throw failure("component '" + name + "': no local:/golden: prefix");
            const std::string root = ref.substr(0, colon), rel = ref.substr(colon + 1);
            const fs::path src = root == "local" ? golden_path(context{OMNIHOST_GOLDEN_LOCAL_DIR}, rel)
                                                 : golden_path(ctx, rel);
            fs::create_symlink(fs::absolute(src), dir / name);
        }
    }
    ~assembled_model() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

wan::rgb_image image_from(const at::Tensor &hwc_u8) {
    wan::rgb_image im;
    im.height = hwc_u8.size(0);
    im.width = hwc_u8.size(1);
    const at::Tensor c = hwc_u8.contiguous();
    im.rgb.assign(c.data_ptr<uint8_t>(), c.data_ptr<uint8_t>() + c.numel());
    return im;
}

outcome run_case(const context &ctx, const std::string &name) {
    const context local{OMNIHOST_GOLDEN_LOCAL_DIR};
    auto gc = golden_case::load(local, "i2v_cases/" + name);
    const auto &j = gc.info();
    assembled_model model(ctx, j);
    auto pipe = wan::wan_pipeline::load(model.dir, wan_parity_settings());

    wan::generate_request r;
    read_wan_call_sizes(j, r);
    r.prompt_embeds = gc.tensor("prompt_embeds");
    r.negative_prompt_embeds = gc.tensor("negative_prompt_embeds");
    const auto seed = given(j, "generator_seed");
    if (!seed) throw failure(name + ": generator_seed is not given");
    r.seed = seed->get<uint64_t>();
    r.image = image_from(gc.tensor("image"));
    if (given(j, "last_image")) r.last_image = image_from(gc.tensor("last_image"));

    std::vector<wan::step_trace> trace;
    wan::generate_callbacks cb;
    cb.on_step = [&](const wan::step_trace &t) { trace.push_back(t); };
    const auto result = pipe->generate(r, cb);

    outcome out;
    const auto [atol, rtol] = gc.tolerance();
    expect_equal("timesteps", result.timesteps, gc.tensor("timesteps"), out);
    expect_equal("initial_latents", result.initial_latents, gc.tensor("initial_latents"), out);
    // Pillow's Lanczos reimplemented in 8-bit fixed point: the same pixels, so float32 rounding only.
    expect_close("condition_image", result.condition_image, gc.tensor("condition_image"), 1e-6, 0, out);
    if (gc.has("condition_last_image"))
        expect_close("condition_last_image", result.condition_last_image, gc.tensor("condition_last_image"), 1e-6, 0, out);
    if (gc.has("image_embeds")) expect_close("image_embeds", result.image_embeds, gc.tensor("image_embeds"), atol, rtol, out);
    else if (result.image_embeds.defined()) throw failure("image embeds computed for a model without an image encoder");
    expect_close("condition", result.condition, gc.tensor("condition"), atol, rtol, out);
    if ((int64_t)trace.size() != r.num_inference_steps) throw failure("wrong number of steps: " + std::to_string(trace.size()));
    for (size_t i = 0; i < trace.size(); ++i) {
        const bool want_second = j.at("expert_per_step").at(i).get<std::string>() == "transformer_2";
        if (trace[i].used_transformer_2 != want_second) throw failure("step " + std::to_string(i) + " used the wrong expert");
        const std::string n = std::to_string(i);
        expect_close("noise_pred_cond_step_" + n, trace[i].noise_pred_cond, gc.tensor("noise_pred_cond_step_" + n), atol, rtol, out);
        expect_close("noise_pred_uncond_step_" + n, trace[i].noise_pred_uncond, gc.tensor("noise_pred_uncond_step_" + n), atol, rtol, out);
        expect_close("latents_step_" + n, trace[i].latents, gc.tensor("latents_step_" + n), atol, rtol, out);
    }
    expect_close("frames", result.frames.unsqueeze(0), gc.tensor("frames"), atol, rtol, out);
    out.note = "atol " + std::to_string(atol);
    return out;
}

}  // namespace

PARITY_CASE("i2v/ti2v_pipeline") { return run_case(ctx, "ti2v_pipeline"); }
PARITY_CASE("i2v/wan21_i2v_pipeline") { return run_case(ctx, "wan21_i2v_pipeline"); }
PARITY_CASE("i2v/wan21_flf2v_pipeline") { return run_case(ctx, "wan21_flf2v_pipeline"); }
PARITY_CASE("i2v/a14b_i2v_pipeline") { return run_case(ctx, "a14b_i2v_pipeline"); }
PARITY_CASE("i2v/a14b_flf2v_pipeline") { return run_case(ctx, "a14b_flf2v_pipeline"); }
