// Oobleck VAE unit tests: config parsing, strict loading (missing / unexpected / mis-shaped keys
// are errors naming the key), weight-norm folding, output length, cancellation.
#include "oobleck/oobleck_vae.h"

#include "core/config.h"
#include "core/safetensors.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

using namespace omnihost::models;
namespace fs = std::filesystem;

namespace {

const fs::path golden_vae = fs::path(OMNIHOST_GOLDEN_DIR) / "stable_audio_tiny" / "vae";

struct temp_dir {
    fs::path path;
    temp_dir() {
        path = fs::temp_directory_path() / ("oobleck_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
        fs::create_directories(path);
    }
    ~temp_dir() { fs::remove_all(path); }
    static int &counter() {
        static int c = 0;
        return c;
    }
};

// The golden checkpoint with `edit` applied to its tensor list, written to a temp folder.
fs::path edited_copy(const temp_dir &dir,
                     const std::function<void(std::vector<std::pair<std::string, at::Tensor>> &)> &edit) {
    const auto store = tensor_store::open(golden_vae);
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const auto &n : store.names()) tensors.emplace_back(n, store.get(n).clone());
    edit(tensors);
    fs::copy_file(golden_vae / "config.json", dir.path / "config.json");
    save_safetensors(dir.path / "diffusion_pytorch_model.safetensors", tensors);
    return dir.path;
}

std::string load_error(const fs::path &dir) {
    try {
        oobleck::vae::load(dir);
    } catch (const model_error &e) {
        return e.what();
    }
    return "<no error>";
}

}  // namespace

TEST_CASE("models.oobleck: config defaults are Stable Audio Open's, hop = product of ratios") {
    const auto c = oobleck::oobleck_config::from_json(json_config::parse("{}", "x.json"));
    CHECK(c.hop_length() == 2048);
    CHECK(c.sampling_rate == 44100);
    const auto tiny = oobleck::oobleck_config::from_file(golden_vae / "config.json");
    CHECK(tiny.hop_length() == 8);
    CHECK(tiny.decoder_channels == 6);
    CHECK_THROWS_AS(oobleck::oobleck_config::from_json(json_config::parse(R"({"downsampling_ratios": [2, 0]})", "x.json")),
                    model_error);
    CHECK_THROWS_AS(
        oobleck::oobleck_config::from_json(json_config::parse(R"({"downsampling_ratios": [2], "channel_multiples": [1, 2]})", "x.json")),
        model_error);
}

TEST_CASE("models.oobleck: strict loading names the offending key") {
    temp_dir a, b, c;
    const auto missing = edited_copy(a, [](auto &t) {
        t.erase(std::remove_if(t.begin(), t.end(), [](auto &kv) { return kv.first == "decoder.block.1.conv_t1.weight_g"; }), t.end());
    });
    CHECK(load_error(missing).find("decoder.block.1.conv_t1.weight_g") != std::string::npos);
    const auto extra = edited_copy(b, [](auto &t) { t.emplace_back("decoder.block.9.snake1.alpha", at::zeros({1, 6, 1})); });
    CHECK(load_error(extra).find("decoder.block.9.snake1.alpha") != std::string::npos);
    const auto shape = edited_copy(c, [](auto &t) {
        for (auto &kv : t)
            if (kv.first == "decoder.snake1.beta") kv.second = at::zeros({1, 7, 1});
    });
    CHECK(load_error(shape).find("decoder.snake1.beta") != std::string::npos);
}

TEST_CASE("models.oobleck: weight norm is folded per dim-0 slice (ConvTranspose1d: per input channel)") {
    // Scaling v of one conv_t1 input channel must not change the output (W = g * v / ||v||), while
    // scaling g of that channel must.
    const auto v = oobleck::vae::load(golden_vae);
    const at::Tensor z = at::randn({1, 8, 5}, at::TensorOptions().dtype(at::kFloat));
    const at::Tensor ref = v.decode(z);
    CHECK(ref.sizes() == at::IntArrayRef({1, 2, 40}));
    temp_dir a, b;
    const auto scaled_v = edited_copy(a, [](auto &t) {
        for (auto &kv : t)
            if (kv.first == "decoder.block.0.conv_t1.weight_v") kv.second.narrow(0, 3, 1).mul_(7.0);
    });
    const at::Tensor same = oobleck::vae::load(scaled_v).decode(z);
    CHECK(at::allclose(same, ref, 1e-5, 1e-5));
    const auto scaled_g = edited_copy(b, [](auto &t) {
        for (auto &kv : t)
            if (kv.first == "decoder.block.0.conv_t1.weight_g") kv.second.narrow(0, 3, 1).mul_(7.0);
    });
    CHECK_FALSE(at::allclose(oobleck::vae::load(scaled_g).decode(z), ref, 1e-3, 1e-3));
}

TEST_CASE("models.oobleck: bad latents and cancellation") {
    const auto v = oobleck::vae::load(golden_vae);
    CHECK_THROWS_AS(v.decode(at::zeros({1, 7, 4})), std::invalid_argument);
    CHECK_THROWS_AS(v.decode(at::zeros({8, 4})), std::invalid_argument);
    oobleck::decode_options opts;
    int polls = 0;
    opts.is_cancelled = [&] { return ++polls > 1; };
    CHECK_THROWS_AS(v.decode(at::zeros({1, 8, 4}), opts), oobleck::decode_cancelled);
    CHECK(polls == 2);
}
