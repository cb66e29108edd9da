// The demo model writer's tensor lists must be exactly what diffusers/transformers produce: checked
// against the golden wan21_tiny checkpoints (written by diffusers itself) for the same configs.
#include "demo_model.h"

#include "core/safetensors.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#ifndef OMNIHOST_GOLDEN_DIR
#error "OMNIHOST_GOLDEN_DIR must be defined"
#endif

namespace fs = std::filesystem;
using namespace omnihost::tools;

namespace {

std::map<std::string, std::vector<int64_t>> shapes_of(const std::vector<tensor_spec> &specs) {
    std::map<std::string, std::vector<int64_t>> m;
    for (const auto &s : specs) {
        CHECK_MESSAGE(m.count(s.name) == 0, "duplicate key " << s.name);
        m[s.name] = s.shape;
    }
    return m;
}

std::map<std::string, std::vector<int64_t>> shapes_in(const fs::path &file) {
    REQUIRE_MESSAGE(fs::exists(file), "golden file missing: " << file);
    auto store = omnihost::models::tensor_store::open(file);
    std::map<std::string, std::vector<int64_t>> m;
    for (const auto &n : store.names()) {
        auto sizes = store.get(n).sizes();
        m[n] = std::vector<int64_t>(sizes.begin(), sizes.end());
    }
    return m;
}

void expect_same(const std::map<std::string, std::vector<int64_t>> &mine,
                 const std::map<std::string, std::vector<int64_t>> &golden) {
    for (const auto &[k, shape] : golden) {
        auto it = mine.find(k);
        CHECK_MESSAGE(it != mine.end(), "demo writer lacks " << k);
        if (it != mine.end()) CHECK_MESSAGE(it->second == shape, "shape differs for " << k);
    }
    for (const auto &[k, shape] : mine) CHECK_MESSAGE(golden.count(k) == 1, "demo writer has extra key " << k);
}

const fs::path kGolden = OMNIHOST_GOLDEN_DIR;

}  // namespace

TEST_SUITE("demo_model") {
TEST_CASE("transformer keys and shapes equal diffusers' for the golden config") {
    demo_transformer_config c;  // golden wan21_tiny/transformer/config.json
    c.num_attention_heads = 2;
    c.attention_head_dim = 12;
    c.ffn_dim = 48;
    c.num_layers = 2;
    c.text_dim = 32;
    c.rope_max_seq_len = 32;
    expect_same(shapes_of(transformer_tensor_specs(c)),
                shapes_in(kGolden / "wan21_tiny/transformer/diffusion_pytorch_model.safetensors"));
}

TEST_CASE("text encoder keys and shapes equal transformers' UMT5 for the golden config") {
    demo_text_encoder_config c;  // golden wan21_tiny/text_encoder/config.json
    c.vocab_size = 256;
    c.d_model = 32;
    c.d_kv = 8;
    c.num_heads = 4;
    c.d_ff = 48;
    c.num_layers = 2;
    expect_same(shapes_of(text_encoder_tensor_specs(c)),
                shapes_in(kGolden / "wan21_tiny/text_encoder/model.safetensors"));
}

TEST_CASE("VAE keys and shapes (encoder and decoder) equal diffusers' for the golden config") {
    demo_vae_config c;  // golden wan21_tiny/vae/config.json
    c.base_dim = 8;
    c.z_dim = 16;
    c.dim_mult = {1, 2, 2, 2};
    c.num_res_blocks = 1;
    expect_same(shapes_of(vae_tensor_specs(c)),
                shapes_in(kGolden / "wan21_tiny/vae/diffusion_pytorch_model.safetensors"));
}

TEST_CASE("the writer is deterministic and writes the full diffusers layout") {
    const fs::path root = fs::temp_directory_path() / ("vd_demo_" + std::to_string(::getpid()));
    write_demo_model(root / "a");
    write_demo_model(root / "b");
    for (const char *f : {"model_index.json", "scheduler/scheduler_config.json", "text_encoder/config.json",
                          "text_encoder/model.safetensors", "tokenizer/spiece.model",
                          "tokenizer/tokenizer_config.json", "tokenizer/special_tokens_map.json",
                          "transformer/config.json", "transformer/diffusion_pytorch_model.safetensors",
                          "vae/config.json", "vae/diffusion_pytorch_model.safetensors"}) {
        REQUIRE_MESSAGE(fs::exists(root / "a" / f), "missing " << f);
        CHECK(fs::file_size(root / "a" / f) == fs::file_size(root / "b" / f));
    }
    CHECK_FALSE(fs::exists(root / "a.partial"));
    auto a = omnihost::models::tensor_store::open(root / "a/transformer");
    auto b = omnihost::models::tensor_store::open(root / "b/transformer");
    for (const auto &n : a.names()) CHECK_MESSAGE(a.get(n).equal(b.get(n)), n);
    fs::remove_all(root);
}
}
