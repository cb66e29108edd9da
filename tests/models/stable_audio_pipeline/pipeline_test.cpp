// StableAudioPipeline unit tests on the tiny golden model: request checks name the field, cancel
// skips the decode, output shape/rate, num_waveforms_per_prompt, seed -> same audio.
#include "stable_audio_pipeline/stable_audio_pipeline.h"

#include "core/safetensors.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

namespace sa = omnihost::models::stable_audio;
namespace fs = std::filesystem;

namespace {

const fs::path model_dir = fs::path(OMNIHOST_GOLDEN_DIR) / "stable_audio_tiny";

sa::stable_audio_pipeline &pipe() {
    static auto p = [] {
        sa::pipeline_settings s;
        s.device = "cpu";
        s.threads = 1;
        return sa::stable_audio_pipeline::load(model_dir, s);
    }();
    return *p;
}

// A request from random embeddings (the tiny model has no text encoder).
sa::generate_request embeds_request(uint64_t seed) {
    sa::generate_request r;
    r.prompt_embeds = at::randn({1, 6, 16}, at::detail::createCPUGenerator(1234), at::TensorOptions().dtype(at::kFloat));
    r.num_inference_steps = 4;
    r.audio_end_in_s = 1.0;
    r.seed = seed;
    return r;
}

std::string field_of(const sa::generate_request &r) {
    try {
        pipe().generate(r);
    } catch (const sa::request_error &e) {
        return e.field;
    }
    return "<no error>";
}

}  // namespace

TEST_CASE("models.stable_audio_pipeline: info comes from the configs") {
    const auto &i = pipe().info();
    CHECK(i.sampling_rate == 64);
    CHECK(i.audio_channels == 2);
    CHECK(i.hop_length == 8);
    CHECK(i.sample_size == 16);
    CHECK(i.max_audio_length_s == doctest::Approx(2.0));
    CHECK_FALSE(i.has_text_encoder);
    CHECK(i.scheduler == "CosineDPMSolverMultistepScheduler");
}

TEST_CASE("models.stable_audio_pipeline: bad requests name the field") {
    auto r = embeds_request(1);
    r.num_inference_steps = 0;
    CHECK(field_of(r) == "num_inference_steps");
    r = embeds_request(1);
    r.audio_end_in_s = 2.5;  // beyond sample_size * hop / sr = 2 s
    CHECK(field_of(r) == "audio_end_in_s");
    r = embeds_request(1);
    r.audio_start_in_s = -0.5;
    CHECK(field_of(r) == "audio_start_in_s");
    r = embeds_request(1);
    r.audio_start_in_s = 1.0;  // end 1.0: empty
    CHECK(field_of(r) == "audio_end_in_s");
    r = embeds_request(1);
    r.num_waveforms_per_prompt = 0;
    CHECK(field_of(r) == "num_waveforms_per_prompt");
    r = embeds_request(1);
    r.prompt_embeds.reset();
    r.prompt = "a dog barks";
    CHECK(field_of(r) == "prompt");  // no text encoder in this model
    r = embeds_request(1);
    r.prompt_embeds = at::zeros({1, 6, 15});
    CHECK(field_of(r) == "prompt_embeds");
    r = embeds_request(1);
    r.latents = at::zeros({1, 8, 15});
    CHECK(field_of(r) == "latents");
}

TEST_CASE("models.stable_audio_pipeline: output shape, crop, waveforms per prompt, seed determinism") {
    auto r = embeds_request(5);
    r.audio_start_in_s = 0.25;
    r.audio_end_in_s = 1.5;
    r.num_waveforms_per_prompt = 2;
    int progress_calls = 0;
    sa::generate_callbacks cb;
    cb.progress = [&](int, int, const std::string &phase) { progress_calls += phase == "denoising"; };
    const auto a = pipe().generate(r, cb);
    CHECK(progress_calls == 4);
    CHECK(a.audio.sizes() == at::IntArrayRef({2, 2, 80}));  // [n, channels, int(1.5*64) - int(0.25*64)]
    CHECK(a.sampling_rate == 64);
    CHECK((a.audio.scalar_type() == at::kFloat));
    CHECK(at::isfinite(a.audio).all().item<bool>());
    const auto b = pipe().generate(r);
    CHECK(at::equal(a.audio, b.audio));  // same seed -> same audio (latents and Brownian noise)
    r.seed = 6;
    const auto c = pipe().generate(r);
    CHECK_FALSE(at::allclose(a.audio, c.audio));
    // Without a negative prompt, CFG uses the all-zero unconditional row (guidance matters).
    r.seed = 5;
    r.guidance_scale = 1.0;
    const auto d = pipe().generate(r);
    CHECK_FALSE(at::allclose(a.audio, d.audio));
}

TEST_CASE("models.stable_audio_pipeline: cancel is polled every step and skips the decode") {
    auto r = embeds_request(3);
    int polls = 0, decode_progress = 0;
    sa::generate_callbacks cb;
    cb.is_cancelled = [&] { return ++polls > 2; };
    cb.progress = [&](int, int, const std::string &phase) { decode_progress += phase == "decoding"; };
    CHECK_THROWS_AS(pipe().generate(r, cb), sa::generation_cancelled);
    CHECK(polls == 3);  // before steps 0, 1 and 2
    CHECK(decode_progress == 0);
}
