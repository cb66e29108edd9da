// Golden parity for the Wan VAE decode (wan21_cases/vae_decode*, wan22_cases/ti2v_vae_decode*):
// plain, sliced and tiled decodes against diffusers' AutoencoderKLWan.decode(z).sample, with the
// tolerances stated in each case's json.
#include "golden.h"
#include "parity.h"

#include "wan_vae/wan_vae.h"

#include <ATen/ATen.h>

namespace {

using namespace omnihost;
using models::wan_vae::decode_options;
using models::wan_vae::vae;

vae load_vae(const parity::context &ctx, const std::string &model) {
    return vae::load(parity::golden_path(ctx, model + "/vae"));
}

decode_options tiling_from(const parity::golden_case &gc) {
    decode_options opts;
    opts.use_tiling = true;
    const auto &info = gc.info();
    for (const char *key : {"tile_sample_min_height", "tile_sample_min_width", "tile_sample_stride_height",
                            "tile_sample_stride_width"})
        if (!info.contains(key) || !info[key].is_number_integer())
            throw parity::failure(gc.name() + ".json: missing integer " + key);
    opts.tiling.tile_sample_min_height = info["tile_sample_min_height"].get<int>();
    opts.tiling.tile_sample_min_width = info["tile_sample_min_width"].get<int>();
    opts.tiling.tile_sample_stride_height = info["tile_sample_stride_height"].get<int>();
    opts.tiling.tile_sample_stride_width = info["tile_sample_stride_width"].get<int>();
    return opts;
}

// Plain decode: de-normalisation of `latents` must give `z`, and decode(z) must give `video`.
parity::outcome plain_case(const parity::context &ctx, const std::string &model, const std::string &name) {
    auto gc = parity::golden_case::load(ctx, name);
    auto [atol, rtol] = gc.tolerance();
    const vae v = load_vae(ctx, model);
    parity::outcome out;
    at::Tensor z = v.denormalize(gc.tensor("latents"));
    // Division by the reciprocal, literally as the pipeline does: bit-identical to the reference.
    parity::expect_equal("z (denormalize)", z, gc.tensor("z"), out);
    parity::expect_close("video", v.decode(gc.tensor("z")), gc.tensor("video"), atol, rtol, out);
    // The one-call path from transformer-space latents.
    parity::expect_close("video (decode_latents)", v.decode_latents(gc.tensor("latents")), gc.tensor("video"), atol,
                         rtol, out);
    out.note = "atol " + std::to_string(atol);
    return out;
}

parity::outcome tiled_case(const parity::context &ctx, const std::string &model, const std::string &name) {
    auto gc = parity::golden_case::load(ctx, name);
    auto [atol, rtol] = gc.tolerance();
    const vae v = load_vae(ctx, model);
    parity::outcome out;
    const at::Tensor z = gc.tensor("z");
    parity::expect_close("video (tiled)", v.decode(z, tiling_from(gc)), gc.tensor("video"), atol, rtol, out);
    parity::expect_close("video_untiled", v.decode(z), gc.tensor("video_untiled"), atol, rtol, out);
    out.note = "atol " + std::to_string(atol);
    return out;
}

}  // namespace

PARITY_CASE("wan21/vae_decode") { return plain_case(ctx, "wan21_tiny", "wan21_cases/vae_decode"); }

PARITY_CASE("wan21/vae_decode_sliced") {
    auto gc = parity::golden_case::load(ctx, "wan21_cases/vae_decode_sliced");
    auto [atol, rtol] = gc.tolerance();
    const vae v = load_vae(ctx, "wan21_tiny");
    parity::outcome out;
    const at::Tensor z = gc.tensor("z");
    decode_options sliced;
    sliced.use_slicing = true;
    int64_t chunks = 0;
    sliced.progress = [&](int64_t done, int64_t total) {
        chunks = done;
        if (total != z.size(0) * z.size(2)) throw parity::failure("progress total " + std::to_string(total));
    };
    parity::expect_close("video (sliced)", v.decode(z, sliced), gc.tensor("video"), atol, rtol, out);
    if (chunks != z.size(0) * z.size(2)) throw parity::failure("sliced decode reported " + std::to_string(chunks) + " chunks");
    parity::expect_close("video_batched", v.decode(z), gc.tensor("video_batched"), atol, rtol, out);
    out.note = "atol " + std::to_string(atol);
    return out;
}

PARITY_CASE("wan21/vae_decode_tiled") { return tiled_case(ctx, "wan21_tiny", "wan21_cases/vae_decode_tiled"); }

PARITY_CASE("wan22/ti2v_vae_decode") { return plain_case(ctx, "wan22_ti2v_tiny", "wan22_cases/ti2v_vae_decode"); }

PARITY_CASE("wan22/ti2v_vae_decode_tiled") {
    return tiled_case(ctx, "wan22_ti2v_tiny", "wan22_cases/ti2v_vae_decode_tiled");
}
