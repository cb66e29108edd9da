// StableAudioDiTModel / StableAudioProjectionModel unit tests: names = checkpoint keys, strict
// loading errors, config validation, forward argument errors, the RoPE table, bf16, and the real
// Stable Audio Open 1.0 parameter count.
#include "core/config.h"
#include "core/safetensors.h"
#include "stable_audio_dit/sa_dit.h"
#include "stable_audio_dit/sa_dit_modules.h"
#include "stable_audio_dit/sa_projection.h"
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
using namespace omnihost::models::stable_audio;
using namespace omnihost::models::test_support;

namespace {

const fs::path golden = OMNIHOST_GOLDEN_DIR;
const fs::path dit_dir = golden / "stable_audio_tiny/transformer";
const fs::path proj_dir = golden / "stable_audio_tiny/projection_model";

const std::string checkpoint = "diffusion_pytorch_model.safetensors";

struct inputs {
    at::Tensor x, t, text, global;
    rotary_table rope;
};

inputs tiny_inputs(const dit_config &c, int64_t batch = 2, int64_t len = 16) {
    auto gen = at::detail::createCPUGenerator(7);
    inputs in;
    in.x = at::normal(0, 1, {batch, c.in_channels, len}, gen);
    in.t = at::full({1}, 0.7f);
    in.text = at::normal(0, 1, {batch, 5, c.cross_attention_input_dim}, gen);
    in.global = at::normal(0, 1, {batch, 1, c.global_states_input_dim}, gen);
    in.rope = rotary_pos_embed(c.rotary_dim(), len + 1);
    return in;
}

}  // namespace

TEST_CASE("models.stable_audio_dit: parameter names are the diffusers checkpoint keys") {
    REQUIRE(fs::exists(dit_dir));
    const auto store = tensor_store::open(dit_dir);
    const auto model = dit::load(dit_dir);
    std::vector<std::string> ours;
    for (const auto &kv : model.named_parameters()) ours.push_back(kv.first);
    std::sort(ours.begin(), ours.end());
    CHECK(ours == store.names());
    CHECK(model.num_parameters() > 0);

    const auto proj = projection_model::load(proj_dir);
    std::vector<std::string> pnames;
    for (const auto &kv : proj.named_parameters()) pnames.push_back(kv.first);
    std::sort(pnames.begin(), pnames.end());
    CHECK(pnames == tensor_store::open(proj_dir).names());
}

TEST_CASE("models.stable_audio_dit: strict loading names the missing, unexpected or misshapen key") {
    temp_dir a, b, c;
    const std::string drop = "transformer_blocks.1.attn2.to_k.weight";
    auto missing = edited_copy(a, dit_dir, checkpoint, [&](auto &t) {
        t.erase(std::remove_if(t.begin(), t.end(), [&](const auto &kv) { return kv.first == drop; }), t.end());
    });
    CHECK(error_of([&] { dit::load(missing); }).find(drop) != std::string::npos);

    auto extra = edited_copy(b, dit_dir, checkpoint, [](auto &t) { t.emplace_back("transformer_blocks.0.attn1.norm_q.weight", at::ones({8})); });
    CHECK(error_of([&] { dit::load(extra); }).find("transformer_blocks.0.attn1.norm_q.weight") != std::string::npos);

    auto shape = edited_copy(c, dit_dir, checkpoint, [](auto &t) {
        for (auto &kv : t)
            if (kv.first == "time_proj.weight") kv.second = at::zeros({3});
    });
    CHECK(error_of([&] { dit::load(shape); }).find("time_proj.weight") != std::string::npos);
}

TEST_CASE("models.stable_audio_dit: config values and errors naming the key") {
    const auto c = dit_config::from_file(dit_dir / "config.json");
    CHECK(c.sample_size == 16);
    CHECK(c.num_attention_heads == 4);
    CHECK(c.num_key_value_attention_heads == 2);
    CHECK(c.rotary_dim() == 4);
    CHECK(error_of([] { dit_config::from_json(json_config::parse(R"({"num_attention_heads": 4, "num_key_value_attention_heads": 3})", "cfg")); })
              .find("num_key_value_attention_heads") != std::string::npos);
    CHECK(error_of([] { dit_config::from_json(json_config::parse(R"({"attention_head_dim": 6})", "cfg")); })
              .find("attention_head_dim") != std::string::npos);
    CHECK(error_of([] { dit_config::from_json(json_config::parse(R"({"sample_size": "long"})", "cfg")); })
              .find("sample_size") != std::string::npos);
    // Stored as a float (as some Hub files do): accepted.
    CHECK(dit_config::from_json(json_config::parse(R"({"sample_size": 1024.0})", "cfg")).sample_size == 1024);
    CHECK(error_of([] { projection_config::from_json(json_config::parse(R"({"min_value": 5, "max_value": 5})", "cfg")); })
              .find("max_value") != std::string::npos);
}

TEST_CASE("models.stable_audio_dit: the Stable Audio Open 1.0 DiT has 1,056,939,136 parameters") {
    // Shapes only: the tree's parameters are uninitialised at::empty, nothing is touched.
    stable_audio::detail::dit_m m{dit_config{}};
    int64_t n = 0;
    for (const auto &p : m.parameters()) n += p.numel();
    CHECK(n == 1056939136);
    stable_audio::detail::projection_m p{projection_config{}};
    CHECK(p.text_projection == nullptr);  // 768 == 768: identity
    CHECK(p.named_parameters().size() == 6);
}

TEST_CASE("models.stable_audio_dit: rotary_pos_embed table") {
    const auto r = rotary_pos_embed(8, 5);
    REQUIRE(r.cos.sizes() == at::IntArrayRef({5, 8}));
    CHECK((r.cos.scalar_type() == at::kFloat));
    CHECK(at::equal(r.cos[0], at::ones({8})));
    CHECK(at::equal(r.sin[0], at::zeros({8})));
    // Duplicated halves (repeat_interleave_real=False), frequency 1 in column 0: angle = position.
    CHECK(at::equal(r.cos.slice(1, 0, 4), r.cos.slice(1, 4, 8)));
    CHECK(at::equal(r.sin.slice(1, 0, 4), r.sin.slice(1, 4, 8)));
    CHECK(r.sin[3][0].item<float>() == doctest::Approx(std::sin(3.0)).epsilon(1e-6));
    CHECK(r.cos[2][3].item<float>() == doctest::Approx(std::cos(2.0 / std::pow(10000.0, 6.0 / 8))).epsilon(1e-6));
    CHECK(error_of([] { rotary_pos_embed(3, 5); }).find("dim") != std::string::npos);
    CHECK(error_of([] { rotary_pos_embed(4, 0); }).find("positions") != std::string::npos);
}

TEST_CASE("models.stable_audio_dit: forward argument errors name the argument") {
    const auto model = dit::load(dit_dir);
    const auto in = tiny_inputs(model.config());
    CHECK(model.forward(in.x, in.t, in.text, in.global, in.rope).sizes() == in.x.sizes());
    CHECK(error_of([&] { model.forward(in.x.slice(1, 0, 4), in.t, in.text, in.global, in.rope); }).find("hidden_states") !=
          std::string::npos);
    CHECK(error_of([&] { model.forward(in.x, at::zeros({3}), in.text, in.global, in.rope); }).find("timestep") !=
          std::string::npos);
    CHECK(error_of([&] { model.forward(in.x, in.t, in.text.slice(2, 0, 8), in.global, in.rope); })
              .find("encoder_hidden_states") != std::string::npos);
    CHECK(error_of([&] { model.forward(in.x, in.t, in.text, at::zeros({2, 2, 32}), in.rope); }).find("global_hidden_states") !=
          std::string::npos);
    CHECK(error_of([&] { model.forward(in.x, in.t, in.text, in.global, rotary_pos_embed(4, 10)); })
              .find("rotary_embedding") != std::string::npos);
    // Conditioning of another batch size.
    const auto cond1 = model.encode_conditioning(in.text.slice(0, 0, 1), in.global.slice(0, 0, 1));
    CHECK(error_of([&] { model.forward(in.x, in.t, *cond1, in.rope); }).find("batch") != std::string::npos);
    // A per-sample timestep [B] equal to the broadcast [1] one gives the same numbers (up to the
    // rounding of a batch-2 instead of batch-1 matmul in the timestep MLP).
    CHECK(at::allclose(model.forward(in.x, in.t.expand({2}), in.text, in.global, in.rope),
                       model.forward(in.x, in.t, in.text, in.global, in.rope), 1e-5, 1e-6));
}

TEST_CASE("models.stable_audio_dit: each batch row is computed independently") {
    const auto model = dit::load(dit_dir);
    const auto in = tiny_inputs(model.config());
    const auto both = model.forward(in.x, in.t, in.text, in.global, in.rope);
    const auto row1 = model.forward(in.x.slice(0, 1, 2), in.t, in.text.slice(0, 1, 2), in.global.slice(0, 1, 2), in.rope);
    CHECK(at::allclose(both.slice(0, 1, 2), row1, 1e-5, 1e-6));
}

TEST_CASE("models.stable_audio_dit: bf16 runs and stays near fp32") {
    const auto f32 = dit::load(dit_dir);
    const auto b16 = dit::load(dit_dir, {c10::kBFloat16, c10::kCPU});
    CHECK((b16.dtype() == c10::kBFloat16));
    const auto in = tiny_inputs(f32.config());
    const auto a = f32.forward(in.x, in.t, in.text, in.global, in.rope);
    const auto b = b16.forward(in.x, in.t, in.text, in.global, in.rope);
    CHECK((b.scalar_type() == c10::kBFloat16));
    const double err = (a - b.to(at::kFloat)).abs().max().item<double>();
    const double scale = a.abs().max().item<double>();
    CHECK(err < 0.05 * scale);
    CHECK(error_of([] { dit::load(dit_dir, {c10::kHalf, c10::kCPU}); }).find("dtype") != std::string::npos);
}

TEST_CASE("models.stable_audio_dit: random weights round-trip through safetensors") {
    dit_config c = dit_config::from_file(dit_dir / "config.json");
    const auto model = dit::random(c, 3);
    temp_dir tmp;
    save_safetensors(tmp.path / "diffusion_pytorch_model.safetensors", model.named_parameters());
    fs::copy_file(dit_dir / "config.json", tmp.path / "config.json");
    const auto again = dit::load(tmp.path);
    const auto in = tiny_inputs(c);
    CHECK(at::equal(model.forward(in.x, in.t, in.text, in.global, in.rope),
                    again.forward(in.x, in.t, in.text, in.global, in.rope)));
}

TEST_CASE("models.stable_audio_projection: number conditioner clamps, text projection identity or linear") {
    const auto proj = projection_model::load(proj_dir);
    const auto text = at::randn({1, 3, 16});
    CHECK(at::equal(proj.project_text(text), text));
    // Clamped to [0, 512] before normalising.
    const auto a = proj.seconds_start(at::tensor({512.0f, 0.0f}));
    const auto b = proj.seconds_start(at::tensor({900.0f, -3.0f}));
    CHECK(a.sizes() == at::IntArrayRef({2, 1, 16}));
    CHECK(at::equal(a, b));
    CHECK(!at::equal(proj.seconds_start(at::tensor({10.0f})), proj.seconds_end(at::tensor({10.0f}))));
    CHECK(error_of([&] { proj.seconds_end(at::zeros({2, 1})); }).find("end_seconds") != std::string::npos);
    CHECK(error_of([&] { proj.project_text(at::zeros({1, 3, 8})); }).find("text_hidden_states") != std::string::npos);

    projection_config pc;
    pc.text_encoder_dim = 8;
    pc.conditioning_dim = 16;
    const auto lin = projection_model::random(pc, 1);
    std::vector<std::string> names;
    for (const auto &kv : lin.named_parameters()) names.push_back(kv.first);
    CHECK(std::count(names.begin(), names.end(), "text_projection.weight") == 1);
    CHECK(std::count(names.begin(), names.end(), "text_projection.bias") == 1);
    CHECK(lin.project_text(at::zeros({2, 3, 8})).sizes() == at::IntArrayRef({2, 3, 16}));
}

TEST_CASE("models.stable_audio_projection: outputs are ordinary tensors the caller may scale in place") {
    const auto proj = projection_model::load(proj_dir);
    auto s = proj.seconds_start(at::tensor({3.0f}));
    CHECK_NOTHROW(s.mul_(2));
    auto t = proj.project_text(at::ones({1, 2, 16}));
    CHECK_NOTHROW(t.mul_(at::zeros({1, 2, 1})));
}
