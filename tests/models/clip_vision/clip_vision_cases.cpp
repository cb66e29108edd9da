// CLIP vision parity: transformers' CLIPVisionModel (hidden_states[-2], last_hidden_state,
// pooler_output) on a tiny random model, CLIPImageProcessor (PIL backend) on small uint8 images,
// and the two together as WanImageToVideoPipeline.encode_image runs them. The golden files live in
// the repository (tests/golden_local, from scripts/golden/make_clip_vision_cases.py).
#include "golden.h"
#include "parity.h"

#include "clip_vision/clip_image_processor.h"
#include "clip_vision/clip_vision_encoder.h"

#include <ATen/ATen.h>

#include <cstdio>

namespace {

using namespace omnihost;

const parity::context &local() {
    static const parity::context ctx{OMNIHOST_GOLDEN_LOCAL_DIR};
    return ctx;
}

void versions_note(const parity::golden_case &gc, parity::outcome &out) {
    const auto &v = gc.info().at("versions");
    char buf[160];
    std::snprintf(buf, sizeof buf, "transformers %s, torch %s", v.at("transformers").get<std::string>().c_str(),
                  v.at("torch").get<std::string>().c_str());
    out.note = buf;
}

// Every processor setting comes from the case, through the same parser as preprocessor_config.json.
models::clip_image_processor_config processor_of(const parity::golden_case &gc) {
    return models::clip_image_processor_config::from_json_text(gc.info().at("processor").dump(),
                                                               gc.name() + ".json: processor");
}

models::clip_vision_encoder load_model(const parity::golden_case &gc, const parity::context &ctx) {
    models::clip_vision_options opts;
    opts.device = ctx.device();
    opts.dtype = ctx.dtype();
    return models::clip_vision_encoder::load(parity::golden_path(local(), gc.info().at("model").get<std::string>()),
                                             opts);
}

void check(const parity::golden_case &gc, const std::string &key, const at::Tensor &actual, parity::outcome &out) {
    const auto [atol, rtol] = gc.tolerance(key);
    parity::expect_close(key, actual.to(at::kFloat), gc.tensor(key), atol, rtol, out);
}

}  // namespace

PARITY_CASE("clip_vision/encoder_forward") {
    auto gc = parity::golden_case::load(local(), "clip_vision_cases/encoder_forward");
    const auto encoder = load_model(gc, ctx);
    const auto pv = gc.tensor("pixel_values");
    const auto got = encoder.forward(pv);
    parity::outcome out;
    check(gc, "penultimate_hidden_state", got.penultimate_hidden_state, out);
    check(gc, "last_hidden_state", got.last_hidden_state, out);
    check(gc, "pooler_output", got.pooler_output, out);
    // encode() skips the last layer; it must give the same penultimate state.
    check(gc, "penultimate_hidden_state", encoder.encode(pv), out);
    versions_note(gc, out);
    return out;
}

namespace {

parity::outcome check_preprocess(const std::string &name) {
    auto gc = parity::golden_case::load(local(), "clip_vision_cases/" + name);
    parity::outcome out;
    check(gc, "pixel_values", models::clip_preprocess(gc.tensor("image"), processor_of(gc)), out);
    versions_note(gc, out);
    return out;
}

}  // namespace

PARITY_CASE("clip_vision/preprocess_upscale") { return check_preprocess("preprocess_upscale"); }
PARITY_CASE("clip_vision/preprocess_downscale") { return check_preprocess("preprocess_downscale"); }
PARITY_CASE("clip_vision/preprocess_strong_downscale") { return check_preprocess("preprocess_strong_downscale"); }
PARITY_CASE("clip_vision/preprocess_thin_strip") { return check_preprocess("preprocess_thin_strip"); }

PARITY_CASE("clip_vision/encode_image") {
    auto gc = parity::golden_case::load(local(), "clip_vision_cases/encode_image");
    const auto encoder = load_model(gc, ctx);
    parity::outcome out;
    const auto pv = models::clip_preprocess(gc.tensor("image"), processor_of(gc));
    check(gc, "pixel_values", pv, out);
    check(gc, "penultimate_hidden_state", encoder.encode(pv), out);
    versions_note(gc, out);
    return out;
}
