// The CLIP vision encoder's loading rules: config bounds name the key, strict checkpoint keys name
// the missing / unexpected one, both key layouts (Wan's "vision_model." and transformers 5's
// unprefixed save) load to the same model, and bad pixel_values are refused.
#include "clip_vision/clip_vision_encoder.h"
#include "core/safetensors.h"
#include "model_test_support.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

// doctest last: c10 (glog) defines its own CHECK macro.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace omnihost::models;
using namespace omnihost::models::test_support;

namespace {

const fs::path tiny_dir = fs::path(OMNIHOST_GOLDEN_LOCAL_DIR) / "clip_vision_tiny";

// A copy of the tiny model whose tensors went through `edit`.
fs::path edited_copy(const temp_dir &tmp, const std::function<void(tensor_list &)> &edit) {
    return test_support::edited_copy(tmp, tiny_dir, "model.safetensors", edit);
}

std::string config_error(const std::function<void(nlohmann::json &)> &edit) {
    std::ifstream in(tiny_dir / "config.json");
    auto j = nlohmann::json::parse(in);
    edit(j);
    return error_of([&] { clip_vision_config::from_json_text(j.dump(), "config.json"); });
}

at::Tensor pixels(int64_t batch = 1) {
    return at::randn({batch, 3, 28, 28}, at::TensorOptions().dtype(at::kFloat));
}

}  // namespace

TEST_CASE("models.clip_vision: config.json of the tiny model") {
    const auto c = clip_vision_config::from_json_file(tiny_dir / "config.json");
    CHECK(c.hidden_size == 32);
    CHECK(c.intermediate_size == 48);
    CHECK(c.num_hidden_layers == 3);
    CHECK(c.num_attention_heads == 4);
    CHECK(c.image_size == 28);
    CHECK(c.patch_size == 14);
    CHECK(c.hidden_act == "gelu");
    CHECK(c.num_positions() == 5);
}

TEST_CASE("models.clip_vision: config errors name the key") {
    CHECK(config_error([](auto &j) { j.erase("hidden_size"); }).find("'hidden_size'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["num_hidden_layers"] = 100000; }).find("'num_hidden_layers'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["hidden_size"] = int64_t{1} << 40; }).find("'hidden_size'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["num_attention_heads"] = 5; }).find("'num_attention_heads'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["image_size"] = 10; }).find("'image_size'") != std::string::npos);  // < patch
    CHECK(config_error([](auto &j) { j["image_size"] = 1 << 20; }).find("'image_size'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["patch_size"] = 1000; }).find("'patch_size'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["hidden_act"] = "swish"; }).find("'hidden_act'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["layer_norm_eps"] = -1.0; }).find("'layer_norm_eps'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["model_type"] = "clip"; }).find("'model_type'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["hidden_size"] = "wide"; }).find("hidden_size") != std::string::npos);
    CHECK(config_error([](auto &) {}) == "<no error>");
}

TEST_CASE("models.clip_vision: strict loading names the missing or unexpected key") {
    temp_dir a, b, c, d;
    const auto missing = edited_copy(a, [](tensor_list &t) {
        std::erase_if(t, [](const auto &kv) { return kv.first == "vision_model.encoder.layers.1.mlp.fc2.bias"; });
    });
    CHECK(error_of([&] { clip_vision_encoder::load(missing); }).find("vision_model.encoder.layers.1.mlp.fc2.bias") !=
          std::string::npos);
    const auto unexpected = edited_copy(b, [](tensor_list &t) {
        t.emplace_back("vision_model.encoder.layers.3.mlp.fc2.bias", at::zeros({32}));
    });
    CHECK(error_of([&] { clip_vision_encoder::load(unexpected); }).find("vision_model.encoder.layers.3.mlp.fc2.bias") !=
          std::string::npos);
    const auto wrong_shape = edited_copy(c, [](tensor_list &t) {
        for (auto &kv : t)
            if (kv.first == "vision_model.embeddings.position_embedding.weight") kv.second = at::zeros({6, 32});
    });
    CHECK(error_of([&] { clip_vision_encoder::load(wrong_shape); })
              .find("vision_model.embeddings.position_embedding.weight") != std::string::npos);
    // An old checkpoint's position_ids buffer is the one key that is skipped.
    const auto with_ids = edited_copy(d, [](tensor_list &t) {
        t.emplace_back("vision_model.embeddings.position_ids", at::arange(5, at::kLong).view({1, 5}));
    });
    CHECK(error_of([&] { clip_vision_encoder::load(with_ids); }) == "<no error>");
}

TEST_CASE("models.clip_vision: the unprefixed (transformers 5) layout gives the same model") {
    temp_dir tmp;
    const auto plain = edited_copy(tmp, [](tensor_list &t) {
        for (auto &kv : t) kv.first = kv.first.substr(std::string("vision_model.").size());
    });
    const auto a = clip_vision_encoder::load(tiny_dir);
    const auto b = clip_vision_encoder::load(plain);
    CHECK(a.parameter_count() == b.parameter_count());
    const auto pv = pixels(2);
    CHECK(at::equal(a.forward(pv).last_hidden_state, b.forward(pv).last_hidden_state));
}

TEST_CASE("models.clip_vision: outputs, encode() and batch independence") {
    const auto enc = clip_vision_encoder::load(tiny_dir);
    CHECK(enc.parameter_count() > 0);
    const auto pv = pixels(2);
    const auto out = enc.forward(pv);
    CHECK(out.penultimate_hidden_state.sizes() == at::IntArrayRef{2, 5, 32});
    CHECK(out.last_hidden_state.sizes() == at::IntArrayRef{2, 5, 32});
    CHECK(out.pooler_output.sizes() == at::IntArrayRef{2, 32});
    // The penultimate state is not the last one (the last layer really ran in forward()).
    CHECK(!at::allclose(out.penultimate_hidden_state, out.last_hidden_state));
    CHECK(at::allclose(enc.encode(pv), out.penultimate_hidden_state, 1e-6, 1e-6));
    // Each image is encoded on its own: row 1 alone equals row 1 of the batch.
    CHECK(at::allclose(enc.encode(pv.narrow(0, 1, 1)), out.penultimate_hidden_state.narrow(0, 1, 1), 1e-5, 1e-5));
}

TEST_CASE("models.clip_vision: bad pixel_values and dtypes are refused") {
    const auto enc = clip_vision_encoder::load(tiny_dir);
    CHECK(error_of([&] { enc.encode(at::zeros({1, 3, 32, 32})); }).find("pixel_values") != std::string::npos);
    CHECK(error_of([&] { enc.encode(at::zeros({1, 4, 28, 28})); }).find("pixel_values") != std::string::npos);
    CHECK(error_of([&] { enc.encode(at::zeros({3, 28, 28})); }).find("pixel_values") != std::string::npos);
    CHECK(error_of([&] { enc.encode(at::zeros({1, 3, 28, 28}, at::kLong)); }).find("pixel_values") != std::string::npos);
    clip_vision_options o;
    o.dtype = at::kDouble;
    CHECK(error_of([&] { clip_vision_encoder::load(tiny_dir, o); }).find("dtype") != std::string::npos);
}

TEST_CASE("models.clip_vision: bf16 stays near fp32") {
    clip_vision_options o;
    o.dtype = at::kBFloat16;
    const auto bf = clip_vision_encoder::load(tiny_dir, o);
    const auto fp = clip_vision_encoder::load(tiny_dir);
    const auto pv = pixels(1);
    const auto a = bf.encode(pv);
    CHECK((a.scalar_type() == at::kBFloat16));
    const auto b = fp.encode(pv);
    const double err = (a.to(at::kFloat) - b).abs().max().item<double>();
    const double scale = b.abs().max().item<double>();
    CHECK(err < 0.05 * scale);
}
