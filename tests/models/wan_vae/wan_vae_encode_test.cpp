// Unit tests of the Wan VAE encode side: strict loading of encoder.* / quant_conv.* only when the
// encoder is asked for (decode-only loading unchanged), errors naming keys and dimensions, latent
// shapes for 1, 5, 7 and 9 frames, causality of the chunked encode, progress/cancel and the
// normalisation round trip. Numerical parity with diffusers is in encode_cases.cpp.
#include "wan_vae/wan_vae.h"

#include "core/safetensors.h"
#include "model_test_support.h"

#include <ATen/ATen.h>
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

namespace fs = std::filesystem;
using namespace omnihost::models;
using namespace omnihost::models::test_support;
using wan_vae::encode_options;
using wan_vae::vae;

namespace {

const fs::path golden = OMNIHOST_GOLDEN_DIR;
const fs::path wan21_vae = golden / "wan21_tiny" / "vae";
const fs::path wan22_vae = golden / "wan22_ti2v_tiny" / "vae";

wan_vae::load_settings with_encoder() {
    wan_vae::load_settings s;
    s.with_encoder = true;
    return s;
}

fs::path edited_copy(const temp_dir &dir, const fs::path &source, const std::function<void(tensor_list &)> &edit) {
    REQUIRE(fs::is_directory(source));
    return test_support::edited_copy(dir, source, "diffusion_pytorch_model.safetensors", edit);
}

std::string load_error(const fs::path &folder, const wan_vae::load_settings &s) {
    return error_of<model_error>([&] { vae::load(folder, s); });
}

at::Tensor random_video(std::vector<int64_t> shape) {
    at::manual_seed(0);
    return at::rand(shape) * 2 - 1;
}

}  // namespace

TEST_CASE("the encoder loads only when asked for, and encode needs it") {
    const vae plain = vae::load(wan21_vae);
    CHECK_FALSE(plain.has_encoder());
    CHECK(plain.describe().find("decoder only") != std::string::npos);
    CHECK_THROWS_AS(plain.encode(random_video({1, 3, 1, 16, 16})), std::logic_error);

    const vae full = vae::load(wan21_vae, with_encoder());
    CHECK(full.has_encoder());
    CHECK(full.describe().find("encoder + decoder") != std::string::npos);
    const vae full22 = vae::load(wan22_vae, with_encoder());
    CHECK(full22.has_encoder());
}

TEST_CASE("a missing encoder key is an error naming it with the encoder, and ignored without") {
    for (const std::string key : {"encoder.down_blocks.2.downsampler.time_conv.weight", "quant_conv.bias"}) {
        temp_dir dir;
        auto folder = edited_copy(dir, wan22_vae, [&](tensor_list &t) {
            const auto before = t.size();
            std::erase_if(t, [&](const auto &kv) { return kv.first == key; });
            REQUIRE(t.size() + 1 == before);  // the key exists in the golden checkpoint
        });
        const std::string err = load_error(folder, with_encoder());
        CHECK(err.find("missing") != std::string::npos);
        CHECK(err.find(key) != std::string::npos);
        // Decode-only loading never looks at the encoder half.
        CHECK(load_error(folder, {}) == "<no error>");
    }
}

TEST_CASE("Wan2.1 encoder keys use the flat down_blocks names") {
    temp_dir dir;
    // One residual block per level: [res, resample 2d, res, resample 3d, ...], so index 3.
    const std::string key = "encoder.down_blocks.3.time_conv.weight";
    auto folder = edited_copy(dir, wan21_vae, [&](tensor_list &t) {
        const auto before = t.size();
        std::erase_if(t, [&](const auto &kv) { return kv.first == key; });
        REQUIRE(t.size() + 1 == before);
    });
    CHECK(load_error(folder, with_encoder()).find(key) != std::string::npos);
}

TEST_CASE("an unexpected encoder key is an error naming it with the encoder") {
    temp_dir dir;
    const std::string key = "encoder.down_blocks.9.resnets.0.conv1.weight";
    auto folder = edited_copy(dir, wan21_vae, [&](tensor_list &t) { t.emplace_back(key, at::zeros({1})); });
    const std::string err = load_error(folder, with_encoder());
    CHECK(err.find("unexpected") != std::string::npos);
    CHECK(err.find(key) != std::string::npos);
}

TEST_CASE("latent shapes follow the causal chunk rule for 1, 5, 7 and 9 frames") {
    const vae v21 = vae::load(wan21_vae, with_encoder());
    const vae v22 = vae::load(wan22_vae, with_encoder());
    for (int64_t frames : {1, 5, 7, 9}) {
        CAPTURE(frames);
        const int64_t latent = 1 + (frames - 1) / 4;
        CHECK(v21.latent_frames(frames) == latent);
        at::Tensor z = v21.encode(random_video({1, 3, frames, 16, 24}));
        CHECK((z.sizes() == at::IntArrayRef{1, 16, latent, 2, 3}));
        at::Tensor z22 = v22.encode(random_video({2, 3, frames, 32, 16}));
        CHECK((z22.sizes() == at::IntArrayRef{2, 48, latent, 2, 1}));
        CHECK((v22.encode_moments(random_video({1, 3, frames, 32, 16})).sizes() ==
               at::IntArrayRef{1, 96, latent, 2, 1}));
    }
}

TEST_CASE("the encode is causal: later frames do not change the first latent frame") {
    for (const fs::path &folder : {wan21_vae, wan22_vae}) {
        const vae v = vae::load(folder, with_encoder());
        const at::Tensor video = random_video({1, 3, 5, 32, 32});
        const at::Tensor first = v.encode(video.slice(2, 0, 1));
        const at::Tensor all = v.encode(video);
        CHECK(at::allclose(all.slice(2, 0, 1), first, 1e-5, 1e-6));
        // ...while the second latent frame does depend on frames 1..4.
        at::Tensor changed = video.clone();
        changed.slice(2, 3, 4).fill_(0.5);
        const at::Tensor other = v.encode(changed);
        CHECK(at::allclose(other.slice(2, 0, 1), first, 1e-5, 1e-6));
        CHECK_FALSE(at::allclose(other.slice(2, 1, 2), all.slice(2, 1, 2), 1e-4, 1e-5));
    }
}

TEST_CASE("bad video shapes are errors that name the dimension") {
    const vae v22 = vae::load(wan22_vae, with_encoder());
    auto encode_error = [&](const at::Tensor &x) { return error_of<std::invalid_argument>([&] { v22.encode(x); }); };
    CHECK(encode_error(at::zeros({3, 1, 32, 32})).find("5-D") != std::string::npos);
    CHECK(encode_error(at::zeros({1, 12, 1, 32, 32})).find("channel") != std::string::npos);
    CHECK(encode_error(at::zeros({1, 3, 0, 32, 32})).find("frames") != std::string::npos);
    CHECK(encode_error(at::zeros({1, 3, 1, 31, 32})).find("height") != std::string::npos);
    CHECK(encode_error(at::zeros({1, 3, 1, 32, 33})).find("width") != std::string::npos);
    CHECK(encode_error(at::zeros({1, 3, 1, 32, 32}, at::kLong)).find("floating") != std::string::npos);
    CHECK_THROWS_AS(v22.normalize(at::zeros({1, 16, 1, 2, 2})), std::invalid_argument);
}

TEST_CASE("encode progress counts slices x tiles x chunks and cancel aborts") {
    const vae v = vae::load(wan21_vae, with_encoder());
    const at::Tensor video = random_video({2, 3, 5, 40, 48});
    encode_options opts;
    opts.use_slicing = true;
    opts.use_tiling = true;
    opts.tiling = {32, 32, 16, 24};
    int64_t done = 0, total = 0;
    opts.progress = [&](int64_t d, int64_t t) {
        done = d;
        total = t;
    };
    const at::Tensor tiled = v.encode(video, opts);
    // 2 slices x (3 tile rows x 2 tile columns) x 2 chunks.
    CHECK(total == 2 * 6 * 2);
    CHECK(done == total);
    CHECK((tiled.sizes() == at::IntArrayRef{2, 16, 2, 5, 6}));

    encode_options cancel = opts;
    int64_t polls = 0;
    cancel.is_cancelled = [&] { return ++polls > 3; };
    CHECK_THROWS_AS(v.encode(video, cancel), wan_vae::decode_cancelled);

    encode_options bad;
    bad.use_tiling = true;
    bad.tiling = {32, 32, 40, 24};
    CHECK_THROWS_AS(v.encode(video, bad), std::invalid_argument);
}

TEST_CASE("normalize is the inverse of denormalize") {
    const vae v = vae::load(wan22_vae, with_encoder());
    at::manual_seed(1);
    const at::Tensor z = at::randn({1, 48, 2, 2, 2});
    CHECK(at::allclose(v.denormalize(v.normalize(z)), z, 1e-5, 1e-6));
}
