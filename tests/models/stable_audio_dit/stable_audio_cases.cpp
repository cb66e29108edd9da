// Golden parity of the Stable Audio DiT and projection model (fp32, as the goldens were produced):
//   stable_audio/sa_transformer_forward  StableAudioDiTModel.forward with the case's RoPE tables, plus
//                                        our rotary_pos_embed() against those tables (exact) and the
//                                        cached-conditioning path (bit-identical to the plain call)
//   stable_audio/sa_projection           text projection (identity here) and both number conditioners
//                                        on in- and out-of-range seconds
#include "golden.h"

#include "stable_audio_dit/sa_dit.h"
#include "stable_audio_dit/sa_projection.h"

#include <ATen/ATen.h>

#include <cstdio>

using namespace omnihost::parity;
namespace sa = omnihost::models::stable_audio;

namespace {

std::string tol_note(double atol, double rtol) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "atol %g rtol %g", atol, rtol);
    return buf;
}

}  // namespace

PARITY_CASE("stable_audio/sa_transformer_forward") {
    auto gc = golden_case::load(ctx, "stable_audio_cases/sa_transformer_forward");
    const auto model = sa::dit::load(golden_path(ctx, "stable_audio_tiny/transformer"), {.dtype = ctx.dtype(), .device = ctx.device()});
    const auto [atol, rtol] = gc.tolerance();
    outcome out;

    // The pipeline's table: get_1d_rotary_pos_embed(head_dim / 2, sample_size + 1), float32 exact.
    const auto &cfg = model.config();
    const auto ours = sa::rotary_pos_embed(cfg.rotary_dim(), cfg.sample_size + 1);
    expect_equal("rotary_cos", ours.cos, gc.tensor("rotary_cos"), out);
    expect_equal("rotary_sin", ours.sin, gc.tensor("rotary_sin"), out);

    const sa::rotary_table rope{gc.tensor("rotary_cos"), gc.tensor("rotary_sin")};
    const at::Tensor got = model.forward(gc.tensor("hidden_states"), gc.tensor("timestep"),
                                         gc.tensor("encoder_hidden_states"), gc.tensor("global_hidden_states"), rope);
    expect_close("output", got, gc.tensor("output"), atol, rtol, out);

    // The cached conditioning (what the pipeline reuses over the steps) must give the same numbers.
    const auto cond = model.encode_conditioning(gc.tensor("encoder_hidden_states"), gc.tensor("global_hidden_states"));
    outcome same;
    expect_equal("output (cached conditioning)", model.forward(gc.tensor("hidden_states"), gc.tensor("timestep"), *cond, rope),
                 got, same);
    out.note = tol_note(atol, rtol) + "; rope tables exact";
    return out;
}

PARITY_CASE("stable_audio/sa_projection") {
    auto gc = golden_case::load(ctx, "stable_audio_cases/sa_projection");
    const auto model = sa::projection_model::load(golden_path(ctx, "stable_audio_tiny/projection_model"));
    const auto [atol, rtol] = gc.tolerance();
    outcome out;
    expect_close("text_hidden_states_out", model.project_text(gc.tensor("text_hidden_states")),
                 gc.tensor("text_hidden_states_out"), atol, rtol, out);
    expect_close("seconds_start_hidden_states", model.seconds_start(gc.tensor("start_seconds")),
                 gc.tensor("seconds_start_hidden_states"), atol, rtol, out);
    expect_close("seconds_end_hidden_states", model.seconds_end(gc.tensor("end_seconds")),
                 gc.tensor("seconds_end_hidden_states"), atol, rtol, out);
    out.note = tol_note(atol, rtol);
    return out;
}
