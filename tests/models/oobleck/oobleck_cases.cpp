// Golden parity of the Oobleck decode (stable_audio_cases/sa_vae_decode) against diffusers'
// AutoencoderOobleck.decode(latents).sample, with the case's model, hop length and tolerance.
#include "case_params.h"
#include "golden.h"

#include "oobleck/oobleck_vae.h"

#include <ATen/ATen.h>

using namespace omnihost::parity;
namespace oobleck = omnihost::models::oobleck;

namespace {

outcome decode_case(const context &ctx, const std::string &name, bool slicing) {
    auto gc = golden_case::load(ctx, name);
    const auto [atol, rtol] = gc.tolerance();
    const auto model = given(gc.info(), "model");
    if (!model) throw failure(name + ".json: no \"model\"");
    const auto v = oobleck::vae::load(golden_path(ctx, model->get<std::string>()));
    if (const auto hop = given(gc.info(), "hop_length"); hop && hop->get<int64_t>() != v.config().hop_length())
        throw failure("hop_length " + std::to_string(v.config().hop_length()) + " != case's " + hop->dump());
    oobleck::decode_options opts;
    opts.use_slicing = slicing;
    outcome out;
    expect_close("audio", v.decode(gc.tensor("latents"), opts), gc.tensor("audio"), atol, rtol, out);
    out.note = std::string(slicing ? "sliced, " : "") + "atol " + std::to_string(atol) + " rtol " + std::to_string(rtol);
    return out;
}

}  // namespace

PARITY_CASE("stable_audio/sa_vae_decode") { return decode_case(ctx, "stable_audio_cases/sa_vae_decode", false); }
// Slicing (one batch item at a time) must agree within the same tolerance.
PARITY_CASE("stable_audio/sa_vae_decode_sliced") { return decode_case(ctx, "stable_audio_cases/sa_vae_decode", true); }
