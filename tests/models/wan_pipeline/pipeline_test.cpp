// WanPipeline behaviour beyond the goldens: request checks naming the field, the 4k+1 frame rule,
// cancel skipping the decode, flow_shift override, CFG off at guidance <= 1, VAE tiling honoured.
#include "wan_pipeline/wan_pipeline.h"

#include <ATen/ATen.h>
#undef CHECK  // c10 defines a glog-style CHECK; doctest's must win
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#ifndef OMNIHOST_GOLDEN_DIR
#error "OMNIHOST_GOLDEN_DIR must be defined"
#endif

namespace wan = omnihost::models::wan;
namespace fs = std::filesystem;

namespace {

wan::pipeline_settings cpu_settings() {
    wan::pipeline_settings s;
    s.device = "cpu";
    s.vae_use_slicing = false;
    s.vae_use_tiling = false;
    s.enable_cpu_offload = false;
    return s;
}

wan::generate_request small_request() {
    wan::generate_request r;
    r.prompt = "a cat";
    r.height = 32;
    r.width = 48;
    r.num_frames = 9;
    r.num_inference_steps = 2;
    r.guidance_scale = 5.0;
    r.max_sequence_length = 16;
    r.seed = 3;
    return r;
}

const fs::path kTiny = fs::path(OMNIHOST_GOLDEN_DIR) / "wan21_tiny";

std::string field_of(wan::wan_pipeline &p, const wan::generate_request &r) {
    try {
        p.generate(r);
    } catch (const wan::request_error &e) {
        return e.field;
    }
    return "";
}

}  // namespace

TEST_CASE("frame counts follow diffusers' 4k+1 rule") {
    CHECK(wan::wan_pipeline::normalize_num_frames(81) == 81);
    CHECK(wan::wan_pipeline::normalize_num_frames(80) == 81);  // 80 // 4 * 4 + 1
    CHECK(wan::wan_pipeline::normalize_num_frames(16) == 17);
    CHECK(wan::wan_pipeline::normalize_num_frames(83) == 81);
    CHECK(wan::wan_pipeline::normalize_num_frames(1) == 1);
    CHECK(wan::wan_pipeline::normalize_num_frames(0) == 1);
}

TEST_CASE("bad requests are request_errors naming the field") {
    REQUIRE(fs::exists(kTiny));
    auto p = wan::wan_pipeline::load(kTiny, cpu_settings());
    CHECK(p->info().variant == "wan2.1");
    CHECK(p->info().size_multiple == 16);
    auto r = small_request();
    r.height = 40;
    CHECK(field_of(*p, r) == "height");
    r = small_request();
    r.width = 0;
    CHECK(field_of(*p, r) == "width");
    r = small_request();
    r.num_inference_steps = 0;
    CHECK(field_of(*p, r) == "num_inference_steps");
    r = small_request();
    r.guidance_scale_2 = 2.0;  // one expert only
    CHECK(field_of(*p, r) == "guidance_scale_2");
}

TEST_CASE("cancel stops between steps and skips the decode") {
    auto p = wan::wan_pipeline::load(kTiny, cpu_settings());
    int steps = 0, decodes = 0;
    wan::generate_callbacks cb;
    cb.progress = [&](int, int, const std::string &phase) {
        if (phase == "denoise") ++steps;
        if (phase == "decode") ++decodes;
    };
    cb.is_cancelled = [&] { return steps >= 1; };
    auto r = small_request();
    r.num_inference_steps = 10;
    CHECK_THROWS_AS(p->generate(r, cb), wan::generation_cancelled);
    CHECK(steps == 1);
    CHECK(decodes == 0);
}

TEST_CASE("flow_shift overrides the scheduler config, and guidance <= 1 turns CFG off") {
    auto base = wan::wan_pipeline::load(kTiny, cpu_settings());
    auto s = cpu_settings();
    s.flow_shift = 7.0;
    auto shifted = wan::wan_pipeline::load(kTiny, s);
    CHECK(base->info().flow_shift == 3.0);
    CHECK(shifted->info().flow_shift == 7.0);
    auto r = small_request();
    r.num_inference_steps = 4;
    r.guidance_scale = 1.0;
    std::vector<wan::step_trace> trace;
    wan::generate_callbacks cb;
    cb.on_step = [&](const wan::step_trace &t) { trace.push_back(t); };
    const auto a = base->generate(r, cb);
    const auto b = shifted->generate(r);
    CHECK_FALSE(a.timesteps.equal(b.timesteps));
    REQUIRE(trace.size() == 4);
    CHECK_FALSE(trace[0].noise_pred_uncond.defined());
    CHECK(a.frames.sizes() == at::IntArrayRef({9, 32, 48, 3}));
    CHECK(a.frames.min().item<float>() >= 0.0f);
    CHECK(a.frames.max().item<float>() <= 1.0f);
}

TEST_CASE("vae_use_tiling is honoured: a frame larger than a tile is decoded in tiles") {
    auto count_decode_chunks = [&](bool tiling) {
        auto s = cpu_settings();
        s.vae_use_tiling = tiling;
        auto p = wan::wan_pipeline::load(kTiny, s);
        auto r = small_request();
        r.height = 272;  // > 256 px tile: 2 x 2 tiles with the default 192 px stride
        r.width = 272;
        r.num_frames = 1;
        r.num_inference_steps = 1;
        int total = 0;
        wan::generate_callbacks cb;
        cb.progress = [&](int, int t, const std::string &phase) {
            if (phase == "decode") total = t;
        };
        p->generate(r, cb);
        return total;
    };
    const int plain = count_decode_chunks(false);
    const int tiled = count_decode_chunks(true);
    CHECK(plain == 1);
    CHECK(tiled == 4);
}

TEST_CASE("dtype bf16 runs the transformer and text encoder in bf16 and stays close to fp32") {
    auto s = cpu_settings();
    s.dtype = "bf16";
    auto p16 = wan::wan_pipeline::load(kTiny, s);
    CHECK(p16->info().dtype == "bf16");
    auto p32 = wan::wan_pipeline::load(kTiny, cpu_settings());
    auto r = small_request();
    const auto a = p16->generate(r);
    const auto b = p32->generate(r);
    REQUIRE(a.frames.sizes() == b.frames.sizes());
    CHECK(a.frames.isfinite().all().item<bool>());
    CHECK(a.initial_latents.equal(b.initial_latents));  // noise is always drawn in fp32
    const double diff = (a.frames - b.frames).abs().max().item<double>();
    MESSAGE("bf16 vs fp32 frames: max |diff| = " << diff);
    CHECK(diff < 0.25);  // bf16 has 8 mantissa bits; a tiny random model stays within this
}

TEST_CASE("unsupported dtype and device are model errors naming the setting") {
    auto s = cpu_settings();
    s.dtype = "fp16";
    CHECK_THROWS_WITH(wan::wan_pipeline::load(kTiny, s), doctest::Contains("dtype"));
    s = cpu_settings();
    s.device = "tpu";
    CHECK_THROWS_WITH(wan::wan_pipeline::load(kTiny, s), doctest::Contains("device"));
}
