#include "core/config.h"
#include "core/safetensors.h"
#include "wan_transformer/wan_rope.h"
#include "wan_transformer/wan_transformer.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <filesystem>

// doctest last: c10 (glog) defines its own CHECK macro.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace omnihost::models;
using namespace omnihost::models::wan;

namespace {

const fs::path golden = OMNIHOST_GOLDEN_DIR;

wan_transformer_config tiny_config() {
    wan_transformer_config c;
    c.num_attention_heads = 2;
    c.attention_head_dim = 12;
    c.in_channels = c.out_channels = 4;
    c.text_dim = 8;
    c.freq_dim = 16;
    c.ffn_dim = 16;
    c.num_layers = 1;
    c.rope_max_seq_len = 16;
    return c;
}

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string t = (fs::temp_directory_path() / "omnihost-wan-XXXXXX").string();
        path = mkdtemp(t.data());
    }
    ~temp_dir() { fs::remove_all(path); }
};

std::string load_error(const fs::path &weights) {
    try {
        wan_transformer::load(tiny_config(), tensor_store::open(weights));
    } catch (const model_error &e) {
        return e.what();
    }
    return "<no error>";
}

}  // namespace

TEST_CASE("models.wan_transformer: parameter names are the diffusers checkpoint keys") {
    REQUIRE(fs::exists(golden / "wan21_tiny/transformer"));
    auto store = tensor_store::open(golden / "wan21_tiny/transformer");
    auto tr = wan_transformer::load(golden / "wan21_tiny/transformer");
    std::vector<std::string> ours;
    for (const auto &kv : tr.named_parameters()) ours.push_back(kv.first);
    std::sort(ours.begin(), ours.end());
    CHECK(ours == store.names());
    CHECK(tr.num_parameters() > 0);
    tr.to(c10::Device(c10::kCPU));  // offload target on a CPU-only machine: a no-op that keeps working
    CHECK(tr.device().is_cpu());
}

TEST_CASE("models.wan_transformer: missing, unexpected and mis-shaped keys name the key") {
    temp_dir tmp;
    auto model = wan_transformer::random(tiny_config(), 1);
    auto params = model.named_parameters();

    auto missing = params;
    missing.erase(std::remove_if(missing.begin(), missing.end(),
                                 [](auto &kv) { return kv.first == "blocks.0.attn2.norm_k.weight"; }),
                  missing.end());
    save_safetensors(tmp.path / "missing.safetensors", missing);
    CHECK(load_error(tmp.path / "missing.safetensors").find("missing key 'blocks.0.attn2.norm_k.weight'") != std::string::npos);

    auto extra = params;
    extra.emplace_back("blocks.0.attn2.add_k_proj.weight", at::zeros({24, 8}));
    save_safetensors(tmp.path / "extra.safetensors", extra);
    CHECK(load_error(tmp.path / "extra.safetensors").find("unexpected key 'blocks.0.attn2.add_k_proj.weight'") != std::string::npos);

    auto shape = params;
    for (auto &kv : shape)
        if (kv.first == "proj_out.weight") kv.second = at::zeros({3, 24});
    save_safetensors(tmp.path / "shape.safetensors", shape);
    CHECK(load_error(tmp.path / "shape.safetensors").find("shape mismatch for 'proj_out.weight'") != std::string::npos);

    save_safetensors(tmp.path / "ok.safetensors", params);
    CHECK(load_error(tmp.path / "ok.safetensors") == "<no error>");
}

TEST_CASE("models.wan_transformer: bad inputs are model_errors naming the argument") {
    auto tr = wan_transformer::random(tiny_config(), 2);
    at::Tensor x = at::randn({1, 4, 2, 4, 6}), text = at::randn({1, 5, 8});
    at::Tensor t = at::tensor({500}, at::kLong);
    CHECK(tr.forward(x, t, text).sizes() == x.sizes());
    auto err = [&](const at::Tensor &xx, const at::Tensor &tt, const at::Tensor &ee) {
        try {
            tr.forward(xx, tt, ee);
        } catch (const model_error &e) {
            return std::string(e.what());
        }
        return std::string("<no error>");
    };
    CHECK(err(at::randn({1, 3, 2, 4, 6}), t, text).find("hidden_states") != std::string::npos);
    CHECK(err(at::randn({1, 4, 2, 5, 6}), t, text).find("multiples of patch_size") != std::string::npos);
    CHECK(err(x, at::tensor({1, 2}, at::kLong), text).find("timestep") != std::string::npos);
    CHECK(err(x, t, at::randn({1, 5, 7})).find("encoder_hidden_states") != std::string::npos);
    CHECK(err(at::randn({1, 4, 2, 4, 40}), t, text).find("rope_max_seq_len") != std::string::npos);
    // Per-token timesteps: [B, N] with N = 2*2*3 patches.
    CHECK(tr.forward(x, at::full({1, 12}, 300.0f), text).sizes() == x.sizes());
}

TEST_CASE("models.wan_transformer: per-token timesteps equal to a scalar timestep give the same output") {
    auto tr = wan_transformer::random(tiny_config(), 3);
    at::Tensor x = at::randn({2, 4, 2, 4, 6}), text = at::randn({2, 5, 8});
    at::Tensor a = tr.forward(x, at::full({2}, 700.0f), text);
    at::Tensor b = tr.forward(x, at::full({2, 12}, 700.0f), text);
    CHECK(at::allclose(a, b, 1e-5, 1e-5));
}

TEST_CASE("models.wan_transformer: bf16 runs and stays close to fp32") {
    auto f32 = wan_transformer::random(tiny_config(), 4);
    auto b16 = wan_transformer::random(tiny_config(), 4, {c10::kBFloat16});
    CHECK((b16.dtype() == c10::kBFloat16));
    at::Tensor x = at::randn({1, 4, 2, 4, 6}), text = at::randn({1, 5, 8});
    at::Tensor t = at::tensor({999}, at::kLong);
    at::Tensor a = f32.forward(x, t, text), b = b16.forward(x, t, text);
    CHECK((b.scalar_type() == at::kBFloat16));
    const double rel = ((a - b.to(at::kFloat)).norm() / a.norm()).item<double>();
    CHECK(rel < 0.05);
    // The fp32-kept modules really are fp32.
    for (const auto &kv : b16.named_parameters()) {
        INFO(kv.first);
        const bool keep = kv.first.find("scale_shift_table") != std::string::npos ||
                          kv.first.find("time_embedder") != std::string::npos ||
                          kv.first.find("norm2") != std::string::npos;
        CHECK((kv.second.scalar_type() == (keep ? c10::kFloat : c10::kBFloat16)));
    }
    CHECK_THROWS_AS(wan_transformer::random(tiny_config(), 1, {c10::kHalf}), model_error);
}

// ---- image-to-video parts and the RoPE split ----

TEST_CASE("models.wan_transformer: the RoPE split is diffusers' and rejects head dims it cannot split") {
    const auto s128 = wan_rope_split(128);
    CHECK(s128.t == 44);
    CHECK(s128.h == 42);
    CHECK(s128.w == 42);
    // 16 is where h = w = 2 * (16 / 6) = 4, t = 8 differs from an even thirds split (6 | 5 | 5).
    const auto s16 = wan_rope_split(16);
    CHECK(s16.t == 8);
    CHECK(s16.h == 4);
    CHECK(s16.w == 4);
    for (int64_t bad : {0, 2, 4, 5, 13}) CHECK_THROWS_AS(wan_rope_split(bad), model_error);
    auto c = tiny_config();
    c.attention_head_dim = 4;
    CHECK_THROWS_WITH_AS(c.validate("cfg"), doctest::Contains("attention_head_dim"), model_error);
    // A head dim of 16 builds and runs (the tables and the grid share one split).
    c = tiny_config();
    c.attention_head_dim = 16;
    auto tr = wan_transformer::random(c, 3);
    const at::Tensor out = tr.forward(at::randn({1, 4, 2, 4, 4}), at::tensor({500.0f}), at::randn({1, 3, 8}));
    CHECK(out.sizes() == at::IntArrayRef({1, 4, 2, 4, 4}));
}

TEST_CASE("models.wan_transformer: I2V checkpoint keys and config rules") {
    const fs::path local = OMNIHOST_GOLDEN_LOCAL_DIR;
    for (const char *name : {"wan21_i2v_transformer", "wan21_flf2v_transformer", "a14b_i2v_transformer"}) {
        const fs::path dir = local / "i2v_tiny" / name;
        REQUIRE(fs::exists(dir));
        auto store = tensor_store::open(dir);
        auto tr = wan_transformer::load(dir);
        std::vector<std::string> ours;
        for (const auto &kv : tr.named_parameters()) ours.push_back(kv.first);
        std::sort(ours.begin(), ours.end());
        CHECK(ours == store.names());
    }
    auto cfg = wan_transformer_config::from_file(local / "i2v_tiny/wan21_flf2v_transformer/config.json");
    CHECK(cfg.image_dim == 32);
    CHECK(cfg.added_kv_proj_dim == 24);
    CHECK(cfg.pos_embed_seq_len == 10);
    auto t2v = wan_transformer_config::from_file(golden / "wan21_tiny/transformer/config.json");  // nulls
    CHECK_FALSE(t2v.image_dim.has_value());
    CHECK_FALSE(t2v.pos_embed_seq_len.has_value());

    auto bad = [](const std::string &json) {
        try {
            wan_transformer_config::from_json(json_config::parse(json, "cfg"));
        } catch (const model_error &e) {
            return std::string(e.what());
        }
        return std::string("<no error>");
    };
    const std::string base = R"("num_attention_heads": 2, "attention_head_dim": 12, )";
    CHECK(bad("{" + base + R"("image_dim": 32, "added_kv_proj_dim": null})").find("added_kv_proj_dim") != std::string::npos);
    CHECK(bad("{" + base + R"("image_dim": 32, "added_kv_proj_dim": 16})").find("added_kv_proj_dim") != std::string::npos);
    CHECK(bad("{" + base + R"("pos_embed_seq_len": 10})").find("pos_embed_seq_len") != std::string::npos);
    CHECK(bad("{" + base + R"("image_dim": "x", "added_kv_proj_dim": 24})").find("image_dim") != std::string::npos);
    CHECK(bad("{" + base + R"("image_dim": 32, "added_kv_proj_dim": 24, "pos_embed_seq_len": 10})") == "<no error>");
}

TEST_CASE("models.wan_transformer: the image context is required by I2V models and refused by others") {
    const fs::path local = OMNIHOST_GOLDEN_LOCAL_DIR;
    auto i2v = wan_transformer::load(local / "i2v_tiny/wan21_i2v_transformer");
    const at::Tensor x = at::randn({1, 36, 1, 4, 4}), t = at::tensor({500.0f});
    const at::Tensor text = at::randn({1, 512, 32}), img = at::randn({1, 5, 32});
    CHECK_THROWS_WITH_AS(i2v.forward(x, t, text), doctest::Contains("encoder_hidden_states_image"), model_error);
    CHECK_THROWS_WITH_AS(i2v.forward(x, t, at::randn({1, 20, 32}), img), doctest::Contains("512"), model_error);
    CHECK_THROWS_WITH_AS(i2v.forward(x, t, text, at::randn({1, 5, 7})), doctest::Contains("encoder_hidden_states_image"),
                         model_error);
    const at::Tensor a = i2v.forward(x, t, text, img);
    // The image tokens matter.
    CHECK((a - i2v.forward(x, t, text, at::randn({1, 5, 32}))).abs().max().item<double>() > 1e-4);  // (a shift would vanish in norm1)
    auto flf = wan_transformer::load(local / "i2v_tiny/wan21_flf2v_transformer");
    CHECK_THROWS_WITH_AS(flf.forward(x, t, text, img), doctest::Contains("pairs"), model_error);
    CHECK(flf.forward(x, t, text, at::randn({2, 5, 32})).sizes() == at::IntArrayRef({1, 16, 1, 4, 4}));
    auto t2v = wan_transformer::load(golden / "wan21_tiny/transformer");
    CHECK_THROWS_WITH_AS(t2v.forward(at::randn({1, 16, 1, 4, 4}), t, at::randn({1, 8, 32}), img),
                         doctest::Contains("no image embedder"), model_error);
}
