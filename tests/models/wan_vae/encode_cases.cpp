// Golden parity for the Wan VAE encode: diffusers' AutoencoderKLWan.encode(video).latent_dist
// (mode and clamped log-variance) and the image-to-video pipeline's normalised latent, plain,
// sliced and tiled, for the Wan2.1 and Wan2.2 tiny VAEs of the shared golden set. The cases live in
// the repository (tests/golden_local/wan_vae_encode_cases, made by
// scripts/golden/make_wan_vae_encode_cases.py); the weights are the shared golden VAEs.
#include "golden.h"
#include "parity.h"

#include "wan_vae/wan_vae.h"

#include <ATen/ATen.h>

#include <cstdio>

namespace {

using namespace omnihost;
using models::wan_vae::encode_options;
using models::wan_vae::vae;

// Every option from the case json; null (or absent) means "not given" and keeps the default.
encode_options options_from(const parity::golden_case &gc) {
    const auto &info = gc.info();
    encode_options opts;
    auto flag = [&](const char *key) {
        if (!info.contains(key) || info[key].is_null()) return false;
        if (!info[key].is_boolean()) throw parity::failure(gc.name() + ".json: " + key + " must be a boolean");
        return info[key].get<bool>();
    };
    auto size = [&](const char *key, int &field) {
        if (!info.contains(key) || info[key].is_null()) return;
        if (!info[key].is_number_integer()) throw parity::failure(gc.name() + ".json: " + key + " must be an integer");
        field = info[key].get<int>();
    };
    opts.use_slicing = flag("use_slicing");
    opts.use_tiling = flag("use_tiling");
    size("tile_sample_min_height", opts.tiling.tile_sample_min_height);
    size("tile_sample_min_width", opts.tiling.tile_sample_min_width);
    size("tile_sample_stride_height", opts.tiling.tile_sample_stride_height);
    size("tile_sample_stride_width", opts.tiling.tile_sample_stride_width);
    return opts;
}

parity::outcome encode_case(const parity::context &ctx, const std::string &name) {
    const parity::context local{OMNIHOST_GOLDEN_LOCAL_DIR};
    auto gc = parity::golden_case::load(local, "wan_vae_encode_cases/" + name);
    const auto model = gc.info().at("model").get<std::string>();
    // The weights are the shared golden VAEs (the case names them relative to the golden root).
    models::wan_vae::load_settings settings;
    settings.with_encoder = true;
    const vae v = vae::load(parity::golden_path(ctx, model), settings);
    const auto [atol, rtol] = gc.tolerance();
    const encode_options opts = options_from(gc);
    const at::Tensor video = gc.tensor("video");

    parity::outcome out;
    int64_t chunks = 0, total = 0;
    encode_options counted = opts;
    counted.progress = [&](int64_t done, int64_t all) {
        chunks = done;
        total = all;
    };
    const at::Tensor moments = v.encode_moments(video, counted);
    if (chunks != total || total == 0)
        throw parity::failure("progress reported " + std::to_string(chunks) + " of " + std::to_string(total) + " chunks");
    const int64_t z = v.config().z_dim;
    const at::Tensor mean = moments.slice(1, 0, z);
    parity::expect_close("latent_dist_mean", mean, gc.tensor("latent_dist_mean"), atol, rtol, out);
    parity::expect_close("latent_dist_logvar", moments.slice(1, z).clamp(-30.0, 20.0), gc.tensor("latent_dist_logvar"),
                         atol, rtol, out);
    parity::expect_close("latent_dist_mean (encode)", v.encode(video, opts), gc.tensor("latent_dist_mean"), atol, rtol,
                         out);
    parity::expect_close("latents (normalize)", v.normalize(mean), gc.tensor("latents"), atol, rtol, out);
    if (gc.has("latent_dist_mean_batched"))
        parity::expect_close("latent_dist_mean_batched", v.encode(video), gc.tensor("latent_dist_mean_batched"), atol,
                             rtol, out);
    if (gc.has("latent_dist_mean_untiled"))
        parity::expect_close("latent_dist_mean_untiled", v.encode(video), gc.tensor("latent_dist_mean_untiled"), atol,
                             rtol, out);
    const auto &ver = gc.info().at("versions");
    char buf[160];
    std::snprintf(buf, sizeof buf, "atol %g rtol %g; diffusers %s, torch %s", atol, rtol,
                  ver.at("diffusers").get<std::string>().c_str(), ver.at("torch").get<std::string>().c_str());
    out.note = buf;
    return out;
}

}  // namespace

PARITY_CASE("wan_vae_encode/wan21_encode") { return encode_case(ctx, "wan21_encode"); }
PARITY_CASE("wan_vae_encode/wan21_encode_image") { return encode_case(ctx, "wan21_encode_image"); }
PARITY_CASE("wan_vae_encode/wan21_encode_7_frames") { return encode_case(ctx, "wan21_encode_7_frames"); }
PARITY_CASE("wan_vae_encode/wan21_encode_sliced") { return encode_case(ctx, "wan21_encode_sliced"); }
PARITY_CASE("wan_vae_encode/wan21_encode_tiled") { return encode_case(ctx, "wan21_encode_tiled"); }
PARITY_CASE("wan_vae_encode/wan22_encode") { return encode_case(ctx, "wan22_encode"); }
PARITY_CASE("wan_vae_encode/wan22_encode_image") { return encode_case(ctx, "wan22_encode_image"); }
PARITY_CASE("wan_vae_encode/wan22_encode_sliced") { return encode_case(ctx, "wan22_encode_sliced"); }
PARITY_CASE("wan_vae_encode/wan22_encode_tiled") { return encode_case(ctx, "wan22_encode_tiled"); }
