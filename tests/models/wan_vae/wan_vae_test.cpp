// Unit tests of omnihost_wan_vae: strict checkpoint loading (missing / unexpected / wrong-shape
// keys), config validation, input-shape errors, options (cancel, progress, tiling checks, slicing)
// and the bf16 path. Uses the tiny golden Wan2.1 VAE; numerical parity itself is in parity_cases.cpp.
#include "wan_vae/wan_vae.h"

#include "core/safetensors.h"
#include "model_test_support.h"

#include <ATen/ATen.h>
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace fs = std::filesystem;
using namespace omnihost::models;
using namespace omnihost::models::test_support;
using wan_vae::decode_options;
using wan_vae::vae;

namespace {

const fs::path golden = OMNIHOST_GOLDEN_DIR;
const fs::path wan21_vae = golden / "wan21_tiny" / "vae";

// A copy of the golden Wan2.1 VAE folder whose tensors went through `edit` first.
fs::path edited_copy(const temp_dir &dir, const std::function<void(tensor_list &)> &edit) {
    REQUIRE(fs::is_directory(wan21_vae));
    return test_support::edited_copy(dir, wan21_vae, "diffusion_pytorch_model.safetensors", edit);
}

std::string load_error(const fs::path &folder) {
    return error_of<model_error>([&] { vae::load(folder); });
}

at::Tensor random_z(std::vector<int64_t> shape) {
    at::manual_seed(0);
    return at::randn(shape);
}

}  // namespace

TEST_CASE("the golden Wan2.1 VAE loads, ignoring encoder keys, and describes itself") {
    const vae v = vae::load(wan21_vae);
    CHECK(v.config().z_dim == 16);
    CHECK((v.dtype() == at::kFloat));
    CHECK(v.describe().find("Wan2.1") != std::string::npos);
    CHECK(v.output_frames(3) == 9);
}

TEST_CASE("a missing checkpoint key is an error that names it") {
    temp_dir dir;
    const std::string key = "decoder.up_blocks.1.resnets.0.conv_shortcut.weight";
    auto folder = edited_copy(dir, [&](tensor_list &t) {
        std::erase_if(t, [&](const auto &kv) { return kv.first == key; });
    });
    const std::string err = load_error(folder);
    CHECK(err.find("missing") != std::string::npos);
    CHECK(err.find(key) != std::string::npos);
}

TEST_CASE("an unexpected decoder key is an error that names it") {
    temp_dir dir;
    const std::string key = "decoder.up_blocks.3.upsamplers.0.resample.1.weight";
    auto folder = edited_copy(dir, [&](tensor_list &t) { t.emplace_back(key, at::zeros({4, 8, 3, 3})); });
    const std::string err = load_error(folder);
    CHECK(err.find("unexpected") != std::string::npos);
    CHECK(err.find(key) != std::string::npos);
}

TEST_CASE("a tensor of the wrong shape is an error that names the key and both shapes") {
    temp_dir dir;
    const std::string key = "decoder.mid_block.attentions.0.to_qkv.weight";
    auto folder = edited_copy(dir, [&](tensor_list &t) {
        for (auto &kv : t)
            if (kv.first == key) kv.second = at::zeros({48, 8, 1, 1});
    });
    const std::string err = load_error(folder);
    CHECK(err.find(key) != std::string::npos);
    CHECK(err.find("[48, 8, 1, 1]") != std::string::npos);
}

TEST_CASE("a missing weights file or config is an error naming the path") {
    temp_dir dir;
    CHECK_THROWS_AS(vae::load(dir.path), model_error);
    fs::copy_file(wan21_vae / "config.json", dir.path / "config.json");
    CHECK_THROWS_AS(vae::load(dir.path), model_error);
}

TEST_CASE("config errors name the key") {
    auto config_error = [](const std::string &text) {
        return error_of<model_error>([&] { wan_vae::vae_config::from_json_text(text, "vae/config.json"); });
    };
    CHECK(config_error(R"({"temperal_downsample": [true]})").find("temperal_downsample") != std::string::npos);
    CHECK(config_error(R"({"z_dim": 4})").find("latents_mean") != std::string::npos);
    CHECK(config_error(R"({"base_dim": "wide"})").find("base_dim") != std::string::npos);
    CHECK(config_error(R"({"patch_size": 0})").find("patch_size") != std::string::npos);
    CHECK(config_error("[1, 2]").find("vae/config.json") != std::string::npos);
    // Nulls and floats-for-ints follow diffusers' config rules.
    auto c = wan_vae::vae_config::from_json_text(R"({"base_dim": 8.0, "decoder_base_dim": null, "patch_size": null})",
                                                 "inline");
    CHECK(c.decoder_base_dim == 8);
    CHECK(c.patch_size == 1);
}

TEST_CASE("an unsupported dtype is refused") {
    wan_vae::load_settings s;
    s.dtype = at::kHalf;
    CHECK_THROWS_AS(vae::load(wan21_vae, s), model_error);
}

TEST_CASE("bad latent shapes are errors that name the dimension") {
    const vae v = vae::load(wan21_vae);
    auto decode_error = [&](const at::Tensor &z) { return error_of<std::invalid_argument>([&] { v.decode(z); }); };
    CHECK(decode_error(at::zeros({16, 2, 4, 6})).find("5-D") != std::string::npos);
    CHECK(decode_error(at::zeros({1, 8, 2, 4, 6})).find("z_dim = 16") != std::string::npos);
    CHECK(decode_error(at::zeros({1, 16, 0, 4, 6})).find("frames") != std::string::npos);
    CHECK(decode_error(at::zeros({1, 16, 2, 0, 6})).find("height") != std::string::npos);
    CHECK(decode_error(at::zeros({1, 16, 2, 4, 6}, at::kLong)).find("floating") != std::string::npos);
    CHECK_THROWS_AS(v.denormalize(at::zeros({1, 15, 2, 4, 6})), std::invalid_argument);
}

TEST_CASE("decode output shape follows the causal frame rule") {
    const vae v = vae::load(wan21_vae);
    at::Tensor video = v.decode(random_z({1, 16, 1, 2, 3}));
    CHECK((video.sizes() == at::IntArrayRef{1, 3, 1, 16, 24}));
    video = v.decode(random_z({1, 16, 2, 2, 3}));
    CHECK((video.sizes() == at::IntArrayRef{1, 3, 5, 16, 24}));
    CHECK(video.abs().max().item<float>() <= 1.0f);
}

TEST_CASE("cancel aborts the decode and progress counts every chunk") {
    const vae v = vae::load(wan21_vae);
    const at::Tensor z = random_z({2, 16, 3, 6, 8});

    decode_options cancel_after_two;
    int64_t seen = 0;
    cancel_after_two.progress = [&](int64_t done, int64_t) { seen = done; };
    cancel_after_two.is_cancelled = [&] { return seen >= 2; };
    CHECK_THROWS_AS(v.decode(z, cancel_after_two), wan_vae::decode_cancelled);
    CHECK(seen == 2);

    // Sliced and tiled: 2 items x 3 x 3 tiles (latent 6x8, tile 4 stride 2/3) x 3 frames.
    decode_options both;
    both.use_slicing = true;
    both.use_tiling = true;
    both.tiling = {32, 32, 16, 24};
    int64_t last_done = 0, last_total = 0, calls = 0;
    both.progress = [&](int64_t done, int64_t total) {
        ++calls;
        last_done = done;
        last_total = total;
    };
    at::Tensor video = v.decode(z, both);
    CHECK((video.sizes() == at::IntArrayRef{2, 3, 9, 48, 64}));
    CHECK(last_total == 2 * 9 * 3);
    CHECK(last_done == last_total);
    CHECK(calls == last_total);
}

TEST_CASE("tiling is skipped below the tile size and bad tile settings are refused") {
    const vae v = vae::load(wan21_vae);
    const at::Tensor z = random_z({1, 16, 2, 4, 4});
    decode_options tiled;
    tiled.use_tiling = true;
    tiled.tiling = {32, 32, 16, 16};  // latent 4x4 is not larger than 32/8 = 4: plain decode
    CHECK(at::equal(v.decode(z, tiled), v.decode(z)));

    decode_options bad;
    bad.use_tiling = true;
    bad.tiling = {16, 16, 24, 24};  // stride beyond the tile
    CHECK_THROWS_AS(v.decode(z, bad), std::invalid_argument);
    bad.tiling = {4, 4, 4, 4};  // smaller than one latent pixel
    CHECK_THROWS_AS(v.decode(z, bad), std::invalid_argument);
}

TEST_CASE("bf16 decode runs in bf16 and stays close to float32") {
    wan_vae::load_settings s;
    s.dtype = at::kBFloat16;
    const vae v16 = vae::load(wan21_vae, s);
    const vae v32 = vae::load(wan21_vae);
    const at::Tensor latents = random_z({1, 16, 2, 4, 6});
    at::Tensor a = v16.decode_latents(latents);
    at::Tensor b = v32.decode_latents(latents);
    CHECK((a.scalar_type() == at::kBFloat16));
    const double diff = (a.to(at::kFloat) - b).abs().max().item<double>();
    MESSAGE("bf16 vs fp32 max abs diff: " << diff);
    CHECK(diff < 0.1);
    CHECK(diff > 0.0);  // it really ran in bf16
}
