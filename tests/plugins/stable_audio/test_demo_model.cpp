// The Stable Audio demo model writer's tensor lists must be exactly what diffusers produces:
// checked against the golden stable_audio_tiny checkpoints (written by diffusers itself) for the
// same configs; the T5 list against the T5 rules (one relu `wi`, relative bias in block 0 only);
// and the written folder for layout, determinism and the configs the pipeline reads.
#include "demo_stable_audio.h"

#include "core/safetensors.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#ifndef OMNIHOST_GOLDEN_DIR
#error "OMNIHOST_GOLDEN_DIR must be defined"
#endif

namespace fs = std::filesystem;
using namespace omnihost::tools;
using json = nlohmann::json;

namespace {

using shape_map = std::map<std::string, std::vector<int64_t>>;

shape_map shapes_of(const std::vector<tensor_spec> &specs) {
    shape_map m;
    for (const auto &s : specs) {
        CHECK_MESSAGE(m.count(s.name) == 0, "duplicate key " << s.name);
        m[s.name] = s.shape;
    }
    return m;
}

shape_map shapes_in(const fs::path &file) {
    REQUIRE_MESSAGE(fs::exists(file), "golden file missing: " << file);
    auto store = omnihost::models::tensor_store::open(file);
    shape_map m;
    for (const auto &n : store.names()) {
        auto sizes = store.get(n).sizes();
        m[n] = std::vector<int64_t>(sizes.begin(), sizes.end());
    }
    return m;
}

void expect_same(const shape_map &mine, const shape_map &golden) {
    for (const auto &[k, shape] : golden) {
        auto it = mine.find(k);
        CHECK_MESSAGE(it != mine.end(), "demo writer lacks " << k);
        if (it != mine.end()) CHECK_MESSAGE(it->second == shape, "shape differs for " << k);
    }
    for (const auto &[k, shape] : mine) CHECK_MESSAGE(golden.count(k) == 1, "demo writer has extra key " << k);
}

json read_json(const fs::path &f) {
    std::ifstream in(f);
    REQUIRE_MESSAGE(in.good(), "cannot read " << f);
    return json::parse(in);
}

const fs::path kGolden = fs::path(OMNIHOST_GOLDEN_DIR) / "stable_audio_tiny";

}  // namespace

TEST_SUITE("demo_model") {

TEST_CASE("DiT keys and shapes equal diffusers' StableAudioDiTModel for the golden config") {
    const json g = read_json(kGolden / "transformer/config.json");
    demo_sa_transformer_config c;
    c.num_attention_heads = g["num_attention_heads"];
    c.attention_head_dim = g["attention_head_dim"];
    c.num_key_value_attention_heads = g["num_key_value_attention_heads"];
    c.num_layers = g["num_layers"];
    c.in_channels = g["in_channels"];
    c.out_channels = g["out_channels"];
    c.cross_attention_dim = g["cross_attention_dim"];
    c.cross_attention_input_dim = g["cross_attention_input_dim"];
    c.global_states_input_dim = g["global_states_input_dim"];
    c.time_proj_dim = g["time_proj_dim"];
    c.sample_size = g["sample_size"];
    expect_same(shapes_of(sa_transformer_tensor_specs(c)), shapes_in(kGolden / "transformer/diffusion_pytorch_model.safetensors"));
}

TEST_CASE("projection model keys equal diffusers' StableAudioProjectionModel for the golden config") {
    const json g = read_json(kGolden / "projection_model/config.json");
    demo_sa_projection_config c;
    c.text_encoder_dim = g["text_encoder_dim"];
    c.conditioning_dim = g["conditioning_dim"];
    expect_same(shapes_of(sa_projection_tensor_specs(c)),
                shapes_in(kGolden / "projection_model/diffusion_pytorch_model.safetensors"));
    // A text encoder wider than the conditioning gets a real projection.
    c.text_encoder_dim = 24;
    const shape_map wide = shapes_of(sa_projection_tensor_specs(c));
    CHECK(wide.at("text_projection.weight") == std::vector<int64_t>{c.conditioning_dim, 24});
}

TEST_CASE("Oobleck keys and shapes (encoder and decoder, weight_g/weight_v) equal diffusers' for the golden config") {
    const json g = read_json(kGolden / "vae/config.json");
    demo_oobleck_config c;
    c.encoder_hidden_size = g["encoder_hidden_size"];
    c.decoder_channels = g["decoder_channels"];
    c.decoder_input_channels = g["decoder_input_channels"];
    c.audio_channels = g["audio_channels"];
    c.sampling_rate = g["sampling_rate"];
    c.downsampling_ratios = g["downsampling_ratios"].get<std::vector<int>>();
    c.channel_multiples = g["channel_multiples"].get<std::vector<int>>();
    expect_same(shapes_of(oobleck_tensor_specs(c)), shapes_in(kGolden / "vae/diffusion_pytorch_model.safetensors"));
}

TEST_CASE("T5 text encoder keys follow transformers' T5EncoderModel (relu wi, block-0 relative bias)") {
    demo_text_encoder_config c;
    const shape_map m = shapes_of(t5_text_encoder_tensor_specs(c));
    CHECK(m.at("shared.weight") == std::vector<int64_t>{c.vocab_size, c.d_model});
    CHECK(m.at("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight") == std::vector<int64_t>{32, c.num_heads});
    for (int l = 0; l < c.num_layers; ++l) {
        const std::string b = "encoder.block." + std::to_string(l) + ".layer.";
        CHECK(m.count(b + "0.SelfAttention.relative_attention_bias.weight") == (l == 0 ? 1u : 0u));
        CHECK(m.at(b + "1.DenseReluDense.wi.weight") == std::vector<int64_t>{c.d_ff, c.d_model});
        CHECK(m.at(b + "1.DenseReluDense.wo.weight") == std::vector<int64_t>{c.d_model, c.d_ff});
        CHECK(m.count(b + "1.DenseReluDense.wi_0.weight") == 0);
        CHECK(m.at(b + "0.SelfAttention.q.weight") == std::vector<int64_t>{int64_t(c.num_heads) * c.d_kv, c.d_model});
    }
    CHECK(m.count("encoder.final_layer_norm.weight") == 1);
    // 1 shared + per layer (q, k, v, o, 2 norms, wi, wo) + block-0 bias + final norm.
    CHECK(m.size() == size_t(1 + c.num_layers * 8 + 1 + 1));
}

TEST_CASE("the writer: full layout, consistent configs, 44.1 kHz stereo, deterministic") {
    const fs::path root = fs::temp_directory_path() / ("sa_demo_" + std::to_string(::getpid()));
    write_demo_stable_audio_model(root / "a");
    write_demo_stable_audio_model(root / "b");
    for (const char *f : {"model_index.json", "scheduler/scheduler_config.json", "projection_model/config.json",
                          "projection_model/diffusion_pytorch_model.safetensors", "text_encoder/config.json",
                          "text_encoder/model.safetensors", "tokenizer/spiece.model", "tokenizer/tokenizer_config.json",
                          "tokenizer/special_tokens_map.json", "transformer/config.json",
                          "transformer/diffusion_pytorch_model.safetensors", "vae/config.json",
                          "vae/diffusion_pytorch_model.safetensors", "README.md"}) {
        REQUIRE_MESSAGE(fs::exists(root / "a" / f), "missing " << f);
        CHECK(fs::file_size(root / "a" / f) == fs::file_size(root / "b" / f));
    }
    CHECK_FALSE(fs::exists(root / "a.partial"));
    for (const char *c : {"transformer", "vae", "projection_model", "text_encoder"}) {
        auto a = omnihost::models::tensor_store::open(root / "a" / c);
        auto b = omnihost::models::tensor_store::open(root / "b" / c);
        for (const auto &n : a.names()) CHECK_MESSAGE(a.get(n).equal(b.get(n)), n);
    }
    const json index = read_json(root / "a/model_index.json");
    CHECK(index["_class_name"] == "StableAudioPipeline");
    CHECK(index["text_encoder"] == json::array({"transformers", "T5EncoderModel"}));
    const json vae = read_json(root / "a/vae/config.json");
    CHECK(vae["sampling_rate"] == 44100);
    CHECK(vae["audio_channels"] == 2);
    CHECK(vae["downsampling_ratios"] == json::array({2, 4, 4, 8, 8}));
    CHECK(read_json(root / "a/scheduler/scheduler_config.json")["sigma_schedule"] == "exponential");
    CHECK(read_json(root / "a/text_encoder/config.json")["model_type"] == "t5");
    CHECK(read_json(root / "a/tokenizer/tokenizer_config.json")["model_max_length"] == 128);
    CHECK(demo_stable_audio_max_seconds({}) == doctest::Approx(256.0 * 2048.0 / 44100.0));
    // Every tensor finite (a random model must still produce audio, not NaN).
    auto vae_store = omnihost::models::tensor_store::open(root / "a/vae");
    for (const auto &n : vae_store.names()) CHECK_MESSAGE(vae_store.get(n).isfinite().all().item<bool>(), n);

    // Without the text encoder the index says null, as diffusers writes it.
    demo_stable_audio_options no_text;
    no_text.components = {"projection_model", "scheduler", "transformer", "vae"};
    write_demo_stable_audio_model(root / "c", no_text);
    CHECK(read_json(root / "c/model_index.json")["text_encoder"] == json::array({nullptr, nullptr}));
    CHECK_FALSE(fs::exists(root / "c/text_encoder"));

    demo_stable_audio_options bad;
    bad.projection.text_encoder_dim = 7;
    CHECK_THROWS_AS(write_demo_stable_audio_model(root / "d", bad), std::invalid_argument);
    fs::remove_all(root);
}

}
