// Golden parity of the image-conditioned WanTransformer3DModel forwards (tests/golden_local/
// i2v_cases, made by scripts/golden/make_i2v_cases.py): Wan2.1 I2V (image embedder + added K/V),
// Wan2.1 FLF2V (image pairs with pos_embed), the I2V-A14B layout (36 input channels, no image
// tokens) and TI2V's per-token timesteps with the image frame at 0. "model" names its folder as
// "local:<path under tests/golden_local>" or "golden:<path under the shared golden root>".
#include "case_params.h"
#include "golden.h"

#include "wan_transformer/wan_transformer.h"

#include <ATen/ATen.h>

#include <cstdio>

using namespace omnihost::parity;
namespace wan = omnihost::models::wan;

namespace {

std::filesystem::path resolve(const context &ctx, const std::string &ref) {
    const auto colon = ref.find(':');
    if (colon == std::string::npos) throw failure("model reference '" + ref + "' has no local:/golden: prefix");
    const std::string root = ref.substr(0, colon), rel = ref.substr(colon + 1);
    if (root == "local") return golden_path(context{OMNIHOST_GOLDEN_LOCAL_DIR}, rel);
    if (root == "golden") return golden_path(ctx, rel);
    throw failure("model reference '" + ref + "': unknown root '" + root + "'");
}

outcome run_i2v_forward(const context &ctx, const std::string &case_name) {
    const context local{OMNIHOST_GOLDEN_LOCAL_DIR};
    auto gc = golden_case::load(local, "i2v_cases/" + case_name);
    const auto model = gc.info().at("model").get<std::string>();
    auto tr = wan::wan_transformer::load(resolve(ctx, model), {.dtype = ctx.dtype(), .device = ctx.device()});
    auto [atol, rtol] = gc.tolerance();
    std::optional<at::Tensor> image;
    if (given(gc.info(), "image_batch")) image = gc.tensor("encoder_hidden_states_image");
    outcome out;
    const at::Tensor got = tr.forward(gc.tensor("hidden_states"), gc.tensor("timestep"),
                                      gc.tensor("encoder_hidden_states"), image);
    expect_close("output", got, gc.tensor("output"), atol, rtol, out);
    // The cached context path (what the pipeline uses) must give the very same numbers.
    auto ctx_cached = tr.encode_context(gc.tensor("encoder_hidden_states"), image);
    outcome same;
    expect_equal("output (precomputed context)", tr.forward(gc.tensor("hidden_states"), gc.tensor("timestep"), *ctx_cached),
                 got, same);
    char buf[64];
    std::snprintf(buf, sizeof buf, "atol %g rtol %g", atol, rtol);
    out.note = buf;
    return out;
}

}  // namespace

PARITY_CASE("i2v/wan21_i2v_transformer_forward") { return run_i2v_forward(ctx, "wan21_i2v_transformer_forward"); }
PARITY_CASE("i2v/wan21_flf2v_transformer_forward") { return run_i2v_forward(ctx, "wan21_flf2v_transformer_forward"); }
PARITY_CASE("i2v/a14b_i2v_transformer_forward") { return run_i2v_forward(ctx, "a14b_i2v_transformer_forward"); }
PARITY_CASE("i2v/ti2v_transformer_forward_first_frame") {
    return run_i2v_forward(ctx, "ti2v_transformer_forward_first_frame");
}
