// WanPipeline behaviour beyond the goldens: request checks naming the field, the 4k+1 frame rule,
// cancel skipping the decode, flow_shift override, CFG off at guidance <= 1, VAE tiling honoured.
#include "pipeline_test_fixture.h"

#include <ATen/ATen.h>
#undef CHECK  // c10 defines a glog-style CHECK; doctest's must win
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

using namespace wan_pipeline_test;

namespace {

wan::generate_request small_request() {
    return text_request({.height = 32, .width = 48, .num_frames = 9, .steps = 2, .guidance_scale = 5.0, .seed = 3});
}

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

// ---- image-to-video ----

namespace {

wan::rgb_image gray_image(int64_t w, int64_t h, uint8_t v) {
    wan::rgb_image im;
    im.width = w;
    im.height = h;
    im.rgb.assign(size_t(w * h * 3), v);
    for (size_t i = 0; i < im.rgb.size(); i += 7) im.rgb[i] = uint8_t(i * 13);  // some texture
    return im;
}

// A WanImageToVideoPipeline folder for the I2V-A14B layout from the i2v goldens' tiny models.
struct a14b_i2v_folder {
    fs::path dir;
    a14b_i2v_folder() {
        const fs::path local = OMNIHOST_GOLDEN_LOCAL_DIR;
        dir = fs::temp_directory_path() / ("wan_i2v_unit_" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        std::ofstream(dir / "model_index.json")
            << R"({"_class_name": "WanImageToVideoPipeline", "boundary_ratio": 0.875, "expand_timesteps": false,
                   "transformer": ["diffusers", "WanTransformer3DModel"], "transformer_2": ["diffusers", "WanTransformer3DModel"],
                   "vae": ["diffusers", "AutoencoderKLWan"], "scheduler": ["diffusers", "UniPCMultistepScheduler"],
                   "image_encoder": [null, null], "image_processor": [null, null]})";
        fs::create_symlink(local / "i2v_tiny/a14b_i2v_transformer", dir / "transformer");
        fs::create_symlink(local / "i2v_tiny/a14b_i2v_transformer_2", dir / "transformer_2");
        fs::create_symlink(kA14b / "vae", dir / "vae");
        fs::create_symlink(kA14b / "scheduler", dir / "scheduler");
    }
    ~a14b_i2v_folder() { fs::remove_all(dir); }
};

wan::generate_request embeds_request(int64_t text_dim) {
    wan::generate_request r;
    r.height = 32;
    r.width = 32;
    r.num_frames = 5;
    r.num_inference_steps = 1;
    r.guidance_scale = 1.0;  // no CFG: one forward per step
    r.prompt_embeds = at::randn({1, 512, text_dim});
    r.seed = 1;
    return r;
}

}  // namespace

TEST_CASE("what a model takes: text-to-video refuses an image, TI2V accepts one but no last image") {
    auto t2v = wan::wan_pipeline::load(kTiny, cpu_settings());
    CHECK(t2v->info().image_input == "refused");
    CHECK(t2v->info().last_image_input == "refused");
    auto r = small_request();
    r.image = gray_image(48, 32, 100);
    CHECK(field_of(*t2v, r) == "image");

    auto ti2v = wan::wan_pipeline::load(fs::path(OMNIHOST_GOLDEN_DIR) / "wan22_ti2v_tiny", cpu_settings());
    CHECK(ti2v->info().image_input == "accepted");
    CHECK(ti2v->info().last_image_input == "refused");
    CHECK_FALSE(ti2v->info().image_encoder);
    auto ri = small_request();
    ri.width = 64;
    ri.num_inference_steps = 1;
    ri.image = gray_image(30, 20, 100);
    ri.image->rgb.pop_back();  // one byte short
    CHECK(field_of(*ti2v, ri) == "image");
    ri.image = gray_image(30, 20, 100);
    ri.last_image = gray_image(30, 20, 10);
    CHECK(field_of(*ti2v, ri) == "last_image");
    ri.last_image.reset();
    // The image path runs and its condition is the image's latent (one latent frame).
    const auto out = ti2v->generate(ri);
    REQUIRE(out.condition.defined());
    CHECK(out.condition.size(2) == 1);
    CHECK(out.condition_image.sizes() == at::IntArrayRef({1, 3, 32, 64}));
    // Without the image it is text-to-video again (no condition).
    ri.image.reset();
    CHECK_FALSE(ti2v->generate(ri).condition.defined());
}

TEST_CASE("I2V-A14B requires an image, accepts a last image, and the image changes the video") {
    a14b_i2v_folder folder;
    auto p = wan::wan_pipeline::load(folder.dir, cpu_settings());
    CHECK(p->info().image_input == "required");
    CHECK(p->info().last_image_input == "accepted");
    CHECK(p->info().variant == "wan2.2-a14b");
    auto r = embeds_request(32);
    CHECK(field_of(*p, r) == "image");
    r.last_image = gray_image(16, 16, 50);
    CHECK(field_of(*p, r) == "image");  // a last image alone is not enough
    r.last_image.reset();
    r.image = gray_image(40, 24, 120);
    const auto a = p->generate(r);
    CHECK(a.condition.size(1) == 4 + 16);  // mask + latent
    r.image = gray_image(40, 24, 30);
    const auto b = p->generate(r);
    CHECK((a.frames - b.frames).abs().max().item<double>() > 1e-4);
    r.last_image = gray_image(24, 40, 200);
    const auto c = p->generate(r);
    CHECK((c.condition - b.condition).abs().max().item<double>() > 1e-4);
    // The frame mask marks the last frame too: 5 frames -> mask [1 1 1 1 | 0 0 0 1] (the first frame
    // repeated 4 times) folded into 4 channels, so the last latent frame has channel 3 set.
    CHECK(c.condition.select(1, 3).select(1, -1).min().item<double>() == 1.0);
    CHECK(c.condition.slice(1, 0, 3).select(2, -1).max().item<double>() == 0.0);
    CHECK(b.condition.slice(1, 0, 4).select(2, -1).max().item<double>() == 0.0);
    CHECK(b.condition.slice(1, 0, 4).select(2, 0).min().item<double>() == 1.0);
}

TEST_CASE("fit_to_area is diffusers' documented aspect-preserving size") {
    const auto [h, w] = wan::fit_to_area(1024, 768, 480 * 832, 16);
    CHECK(h == 544);  // round(sqrt(399360 * 0.75)) = 547 -> 544
    CHECK(w == 720);  // round(sqrt(399360 / 0.75)) = 730 -> 720
    const auto [h2, w2] = wan::fit_to_area(10, 5000, 480 * 832, 32);
    CHECK(w2 == 32);  // never below one multiple
    CHECK(h2 % 32 == 0);
}

TEST_CASE("enforce_eager=false on the CPU: the load log says the step runs eagerly and why; the video is the same") {
    auto load_with = [](bool eager, std::vector<std::string> &log) {
        auto s = cpu_settings();
        s.enforce_eager = eager;
        wan::load_callbacks cb;
        cb.log = [&log](wan::log_level, const std::string &m) { log.push_back(m); };
        return wan::wan_pipeline::load(kA14b, s, cb);
    };
    auto line_with = [](const std::vector<std::string> &log, const std::string &prefix) {
        for (const auto &m : log)
            if (m.rfind(prefix, 0) == 0) return m;
        return std::string();
    };
    std::vector<std::string> eager_log, graph_log;
    auto eager = load_with(true, eager_log);
    auto graphs = load_with(false, graph_log);
    CHECK(line_with(eager_log, "enforce_eager:") == "enforce_eager: on; the denoising step runs eagerly");
    const std::string why = line_with(graph_log, "enforce_eager:");
    CHECK_MESSAGE(why.rfind("enforce_eager: off requested, but graph capture needs a CUDA device (the compute device "
                            "is cpu)", 0) == 0, why);
    CHECK_MESSAGE(why.find(": the denoising step runs eagerly") != std::string::npos, why);
    // Two experts and CFG: every (expert, branch) slot of the step goes through the graph cache.
    const auto r = text_request({.height = 32, .width = 48, .num_frames = 5, .steps = 4, .guidance_scale = 4.0, .seed = 9});
    const auto a = eager->generate(r);
    const auto b = graphs->generate(r);
    CHECK(a.frames.equal(b.frames));
}
