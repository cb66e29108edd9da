// The T5 encoder-only path of the shared UMT5/T5 code: a transformers T5EncoderModel folder loads
// strictly (config keys, shared / encoder.embed_tokens naming), encode() without a tokenizer is an
// error, and the embedding key variants give identical results.
#include "core/safetensors.h"
#include "umt5/umt5_encoder.h"
#include "umt5/umt5_modules.h"
#include "model_test_support.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

// doctest last: c10 (glog) defines its own CHECK macro.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace omnihost::models;
using namespace omnihost::models::test_support;

namespace {

const fs::path local = OMNIHOST_GOLDEN_LOCAL_DIR;
const fs::path relu_dir = local / "t5_tiny_relu";
const fs::path gated_dir = local / "t5_tiny_gated_gelu";

const std::string checkpoint = "model.safetensors";

at::Tensor ids() { return at::tensor({5, 9, 33, 2, 1, 0}, at::kLong).view({1, 6}); }
at::Tensor mask() { return at::tensor({1, 1, 1, 1, 1, 0}, at::kLong).view({1, 6}); }

}  // namespace

TEST_CASE("models.t5_encoder: transformers T5Config fields select the T5 layout") {
    const auto relu = umt5_config::from_json_file(relu_dir / "config.json");
    CHECK(relu.model_type == "t5");
    CHECK(!relu.per_layer_relative_bias);
    CHECK(!relu.is_gated_act);
    CHECK(relu.dense_act_fn == "relu");
    CHECK(relu.d_model == 16);
    CHECK(relu.d_kv == 4);
    CHECK(relu.d_ff == 24);
    CHECK(relu.num_layers == 2);
    CHECK(relu.num_heads == 4);
    const auto gated = umt5_config::from_json_file(gated_dir / "config.json");
    CHECK(gated.is_gated_act);
    CHECK(gated.dense_act_fn == "gelu_new");
}

TEST_CASE("models.t5_encoder: load_encoder runs forward; encode needs a tokenizer") {
    const auto enc = text_encoder::load_encoder(relu_dir);
    const auto h = enc.forward(ids(), mask());
    CHECK(h.sizes() == at::IntArrayRef({1, 6, 16}));
    CHECK(error_of([&] { enc.encode({"a prompt"}, 8); }).find("tokenizer") != std::string::npos);
}

TEST_CASE("models.t5_encoder: shared.weight, encoder.embed_tokens.weight or both give the same encoder") {
    const auto ref = text_encoder::load_encoder(relu_dir).forward(ids(), mask());
    temp_dir a, b;
    auto renamed = edited_copy(a, relu_dir, checkpoint, [](auto &t) {
        for (auto &kv : t)
            if (kv.first == "shared.weight") kv.first = "encoder.embed_tokens.weight";
    });
    CHECK(at::equal(text_encoder::load_encoder(renamed).forward(ids(), mask()), ref));
    auto both = edited_copy(b, relu_dir, checkpoint, [](auto &t) {
        for (const auto &kv : t)
            if (kv.first == "shared.weight") {
                t.emplace_back("encoder.embed_tokens.weight", kv.second.clone());
                break;
            }
    });
    CHECK(at::equal(text_encoder::load_encoder(both).forward(ids(), mask()), ref));
}

TEST_CASE("models.t5_encoder: strict loading names the key") {
    temp_dir a, b;
    auto missing = edited_copy(a, relu_dir, checkpoint, [](auto &t) {
        t.erase(std::remove_if(t.begin(), t.end(),
                               [](const auto &kv) { return kv.first == "encoder.block.1.layer.1.DenseReluDense.wi.weight"; }),
                t.end());
    });
    CHECK(error_of([&] { text_encoder::load_encoder(missing); }).find("encoder.block.1.layer.1.DenseReluDense.wi.weight") !=
          std::string::npos);
    // T5 has no relative bias beyond block 0: such a key is unexpected.
    auto extra = edited_copy(b, relu_dir, checkpoint, [](auto &t) {
        t.emplace_back("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight", at::zeros({32, 4}));
    });
    CHECK(error_of([&] { text_encoder::load_encoder(extra); }).find("encoder.block.1.layer.0.SelfAttention.relative_attention_bias") !=
          std::string::npos);
}

TEST_CASE("models.t5_encoder: the t5-base encoder (Stable Audio Open's text_encoder) has 109,628,544 parameters") {
    // transformers T5EncoderModel(t5-base config) counts 109,628,544 (shared embedding included once).
    // Shapes only: the parameters are zero-stride placeholders, nothing is allocated.
    temp_dir tmp;
    std::ofstream(tmp.path / "config.json") << R"({"model_type": "t5", "vocab_size": 32128, "d_model": 768, "d_kv": 64,
        "d_ff": 3072, "num_layers": 12, "num_heads": 12, "feed_forward_proj": "relu"})";
    const auto cfg = umt5_config::from_json_file(tmp.path / "config.json");
    umt5_detail::encoder_model model(cfg, umt5_detail::encoder_model_impl::embedding_key::shared, umt5_detail::precision{});
    int64_t n = 0;
    for (const auto &p : model->parameters()) n += p.numel();
    CHECK(n == 109628544);
}
