// Golden parity of WanTransformer3DModel.forward (fp32, as the goldens were produced; the runner's
// --device/--dtype place the model elsewhere, compared with the bf16 tolerance for bf16).
#include "golden.h"

#include "wan_transformer/wan_transformer.h"

#include <ATen/ATen.h>

#include <cstdio>

using namespace omnihost::parity;
namespace wan = omnihost::models::wan;

namespace {

outcome run_forward(const context &ctx, const std::string &model_dir, const std::string &case_name,
                    bool check_precomputed_text = false) {
    auto gc = golden_case::load(ctx, case_name);
    auto tr = wan::wan_transformer::load(golden_path(ctx, model_dir), {.dtype = ctx.dtype(), .device = ctx.device()});
    auto [atol, rtol] = gc.tolerance();
    outcome out;
    at::Tensor got = tr.forward(gc.tensor("hidden_states"), gc.tensor("timestep"), gc.tensor("encoder_hidden_states"));
    expect_close("output", got, gc.tensor("output"), atol, rtol, out);
    if (check_precomputed_text) {
        // The cached text context path must give the very same numbers.
        auto text = tr.encode_text(gc.tensor("encoder_hidden_states"));
        outcome same;
        expect_equal("output (precomputed text context)",
                     tr.forward(gc.tensor("hidden_states"), gc.tensor("timestep"), *text), got, same);
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "atol %g rtol %g", atol, rtol);
    out.note = buf;
    return out;
}

}  // namespace

PARITY_CASE("wan21/transformer_forward") {
    return run_forward(ctx, "wan21_tiny/transformer", "wan21_cases/transformer_forward", true);
}

PARITY_CASE("wan21/transformer_forward_b") {
    return run_forward(ctx, "wan21_tiny/transformer", "wan21_cases/transformer_forward_b");
}

PARITY_CASE("wan21/transformer_forward_patch") {
    return run_forward(ctx, "wan21_cases/transformer_patch_model", "wan21_cases/transformer_forward_patch");
}

PARITY_CASE("wan22/ti2v_transformer_forward") {
    return run_forward(ctx, "wan22_ti2v_tiny/transformer", "wan22_cases/ti2v_transformer_forward");
}
