// StableAudioPipeline unit tests on the tiny golden model: request checks name the field, cancel
// skips the decode, output shape/rate, num_waveforms_per_prompt, seed -> same audio.
#include "stable_audio_pipeline/stable_audio_pipeline.h"

#include "core/safetensors.h"
#include "umt5/umt5_encoder.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

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

namespace {

// stable_audio_tiny plus a text encoder: wan21_tiny's UMT5 (d_model 32) and spiece.model with a
// 12-token model_max_length, and a projection model whose text_projection maps 32 -> 16 (the
// golden number conditioners plus a seeded random Linear). Components are symlinked where unchanged.
struct text_model {
    fs::path dir;
    text_model() {
        const fs::path golden(OMNIHOST_GOLDEN_DIR);
        dir = fs::temp_directory_path() / ("sa_pipeline_text_" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir / "projection_model");
        fs::create_directories(dir / "tokenizer");
        for (const char *c : {"transformer", "vae", "scheduler"}) fs::create_symlink(model_dir / c, dir / c);
        fs::create_symlink(golden / "wan21_tiny" / "text_encoder", dir / "text_encoder");
        fs::create_symlink(golden / "wan21_tiny" / "tokenizer" / "spiece.model", dir / "tokenizer" / "spiece.model");
        std::ofstream(dir / "tokenizer" / "tokenizer_config.json") << R"({"model_max_length": 12})";
        std::ofstream(dir / "model_index.json") << R"({"_class_name": "StableAudioPipeline",
            "projection_model": ["stable_audio", "StableAudioProjectionModel"],
            "scheduler": ["diffusers", "CosineDPMSolverMultistepScheduler"],
            "text_encoder": ["transformers", "UMT5EncoderModel"], "tokenizer": ["transformers", "T5TokenizerFast"],
            "transformer": ["diffusers", "StableAudioDiTModel"], "vae": ["diffusers", "AutoencoderOobleck"]})";
        std::ofstream(dir / "projection_model" / "config.json")
            << R"({"_class_name": "StableAudioProjectionModel", "text_encoder_dim": 32, "conditioning_dim": 16,
                  "min_value": 0, "max_value": 512})";
        const auto store = omnihost::models::tensor_store::open(model_dir / "projection_model");
        std::vector<std::pair<std::string, at::Tensor>> t;
        for (const auto &n : store.names()) t.emplace_back(n, store.get(n).clone());
        auto gen = at::detail::createCPUGenerator(77);
        t.emplace_back("text_projection.weight", at::randn({16, 32}, gen, at::TensorOptions().dtype(at::kFloat)) * 0.2);
        t.emplace_back("text_projection.bias", at::randn({16}, gen, at::TensorOptions().dtype(at::kFloat)) * 0.1);
        omnihost::models::save_safetensors(dir / "projection_model" / "diffusion_pytorch_model.safetensors", t);
    }
    ~text_model() { fs::remove_all(dir); }
};

}  // namespace

TEST_CASE("models.stable_audio_pipeline: prompts go through the tokenizer + T5 exactly like given embeddings") {
    text_model m;
    sa::pipeline_settings s;
    s.device = "cpu";
    s.threads = 1;
    auto p = sa::stable_audio_pipeline::load(m.dir, s);
    CHECK(p->info().has_text_encoder);
    CHECK(p->info().max_sequence_length == 12);

    sa::generate_request by_text;
    by_text.prompt = "A dog barks at a passing train.";
    by_text.negative_prompt = "low quality";
    by_text.num_inference_steps = 3;
    by_text.audio_end_in_s = 1.0;
    by_text.seed = 9;
    const auto a = p->generate(by_text);

    // The same prompts encoded outside the pipeline (no Wan prompt cleaning, padded to 12).
    omnihost::models::text_encoder_options o;
    o.clean_prompts = false;
    const auto te = omnihost::models::text_encoder::load(m.dir / "text_encoder", m.dir / "tokenizer", o);
    const auto pos = te.encode({by_text.prompt}, 12);
    const auto neg = te.encode({*by_text.negative_prompt}, 12);
    sa::generate_request by_embeds = by_text;
    by_embeds.prompt.clear();
    by_embeds.negative_prompt.reset();
    by_embeds.prompt_embeds = pos.embeds;
    by_embeds.attention_mask = pos.attention_mask;
    by_embeds.negative_prompt_embeds = neg.embeds;
    by_embeds.negative_attention_mask = neg.attention_mask;
    const auto b = p->generate(by_embeds);
    CHECK(at::allclose(a.audio, b.audio, 1e-5, 1e-6));
    sa::generate_request other = by_text;  // the text really conditions the result
    other.prompt = "Rain on a tin roof.";
    CHECK_FALSE(at::allclose(p->generate(other).audio, a.audio));

    // A negative prompt that is not given is the all-zero unconditional row, not "".
    sa::generate_request no_negative = by_text;
    no_negative.negative_prompt.reset();
    sa::generate_request empty_negative = by_text;
    empty_negative.negative_prompt = "";
    CHECK_FALSE(at::allclose(p->generate(no_negative).audio, p->generate(empty_negative).audio));
}

// data/sa_pipeline_seeded.safetensors: diffusers 0.30.3 + torch 1.13.1 + torchsde 0.2.6 running
// StableAudioPipeline on the golden tiny model from a seed alone (make_seeded_reference.py).
TEST_CASE("models.stable_audio_pipeline: a seed gives diffusers' latents and audio (generator + torchsde noise)") {
    const auto ref = omnihost::models::tensor_store::open(OMNIHOST_SA_SEEDED_REFERENCE);
    struct run {
        const char *name;
        uint64_t seed;
        int64_t steps;
        double start, end, guidance;
        int64_t waveforms;
    };
    for (const run &c : {run{"a", 21, 12, 0.25, 1.5, 7.0, 1}, run{"b", (uint64_t{1} << 40) + 3, 9, 0.0, 2.0, 4.5, 2}}) {
        const std::string run_name = c.name;
        CAPTURE(run_name);
        sa::generate_request r;
        r.prompt_embeds = ref.get("prompt_embeds");
        r.attention_mask = ref.get("attention_mask");
        r.negative_prompt_embeds = ref.get("negative_prompt_embeds");
        r.negative_attention_mask = ref.get("negative_attention_mask");
        r.seed = c.seed;
        r.num_inference_steps = c.steps;
        r.audio_start_in_s = c.start;
        r.audio_end_in_s = c.end;
        r.guidance_scale = c.guidance;
        r.num_waveforms_per_prompt = c.waveforms;
        std::vector<at::Tensor> latents;
        sa::generate_callbacks cb;
        cb.on_step = [&](const sa::step_trace &t) { latents.push_back(t.latents); };
        const auto out = pipe().generate(r, cb);
        REQUIRE(static_cast<int64_t>(latents.size()) == c.steps);
        double worst_latent = 0;
        for (int64_t i = 0; i < c.steps; ++i) {
            const at::Tensor want = ref.get(std::string(c.name) + ".latents_step_" + std::to_string(i));
            CHECK(at::allclose(latents[i], want, 1e-4, 1e-3));  // the golden set's step tolerance
            worst_latent = std::max(worst_latent, (latents[i] - want).abs().max().item<double>());
        }
        const at::Tensor want_audio = ref.get(std::string(c.name) + ".audio");
        REQUIRE(out.audio.sizes() == want_audio.sizes());
        CHECK(at::allclose(out.audio, want_audio, 1e-4, 1e-4));
        MESSAGE(std::string(c.name) << ": max |latents - diffusers| " << worst_latent << ", max |audio - diffusers| "
                       << (out.audio - want_audio).abs().max().item<double>());
    }
}

TEST_CASE("models.stable_audio_pipeline: bf16 DiT runs and stays near the fp32 result; settings are logged") {
    sa::pipeline_settings s;
    s.device = "cpu";
    s.dtype = "bf16";
    s.threads = 1;
    std::vector<std::string> log;
    sa::load_callbacks lcb;
    lcb.log = [&](sa::log_level, const std::string &m) { log.push_back(m); };
    auto p = sa::stable_audio_pipeline::load(model_dir, s, lcb);
    CHECK(p->info().dtype == "bf16");
    auto has = [&](const std::string &needle) {
        for (const auto &m : log)
            if (m.find(needle) != std::string::npos) return true;
        return false;
    };
    CHECK(has("dtype: bf16"));
    CHECK(has("threads: 1"));
    CHECK(has("enable_cpu_offload: off"));
    CHECK(has("device: cpu"));
    const auto r = embeds_request(11);
    const at::Tensor a = p->generate(r).audio, b = pipe().generate(r).audio;
    CHECK((a.scalar_type() == at::kFloat));
    CHECK(a.sizes() == b.sizes());
    CHECK(at::isfinite(a).all().item<bool>());
    const double rel = ((a - b).norm() / b.norm()).item<double>();
    CAPTURE(rel);
    MESSAGE("bf16 vs fp32 relative L2 difference of the audio: " << rel);
    CHECK(rel < 0.2);
}

TEST_CASE("models.stable_audio_pipeline: enable_cpu_offload takes the components in diffusers' order, same audio") {
    // No GPU here: the execution device is the CPU, so the moves change no tensor; the order of the
    // moves the offload makes is what is checked, and that the audio is bit-identical.
    std::vector<std::string> moves;
    sa::pipeline_settings s;
    s.device = "cpu";
    s.threads = 1;
    s.enable_cpu_offload = true;
    sa::load_callbacks cb;
    cb.on_offload_move = [&](const std::string &c, const std::string &d) {
        CHECK(d == "cpu");
        moves.push_back(c);
    };
    auto p = sa::stable_audio_pipeline::load(model_dir, s, cb);
    CHECK(moves.empty());
    const auto a = p->generate(embeds_request(3));
    // In and out in turn (the tiny model has no text encoder: embeddings are given).
    CHECK(moves == std::vector<std::string>{"projection_model", "projection_model", "transformer", "transformer", "vae",
                                            "vae"});
    CHECK(at::equal(a.audio, pipe().generate(embeds_request(3)).audio));
}

TEST_CASE("models.stable_audio_pipeline: enforce_eager=false on the CPU says eager and why; bit-identical audio") {
    // No GPU here: graph capture needs CUDA, so enforce_eager=false must run the step eagerly, say
    // so in the load log, warn about nothing, and give exactly the audio of enforce_eager=true.
    struct logged {
        sa::log_level level;
        std::string message;
    };
    auto load = [](bool enforce_eager, std::vector<logged> &log) {
        sa::pipeline_settings s;
        s.device = "cpu";
        s.threads = 1;
        s.enforce_eager = enforce_eager;
        sa::load_callbacks cb;
        cb.log = [&log](sa::log_level l, const std::string &m) { log.push_back({l, m}); };
        return sa::stable_audio_pipeline::load(model_dir, s, cb);
    };
    auto line_with = [](const std::vector<logged> &log, const std::string &prefix) -> std::string {
        for (const auto &l : log)
            if (l.message.rfind(prefix, 0) == 0) return l.message;
        return "<none>";
    };
    std::vector<logged> eager_log, graph_log;
    auto eager = load(true, eager_log);
    auto graphs = load(false, graph_log);
    CHECK(line_with(eager_log, "enforce_eager:") == "enforce_eager: on; the denoising step runs eagerly");
    const std::string why = line_with(graph_log, "enforce_eager:");
    CHECK_MESSAGE(why.rfind("enforce_eager: off requested, but graph capture needs a CUDA device (the compute device "
                            "is cpu)", 0) == 0, why);
    CHECK_MESSAGE(why.find("the denoising step runs eagerly") != std::string::npos, why);

    // CFG with the zero unconditional row, with a given negative, and two waveforms per prompt.
    sa::generate_request plain = embeds_request(17);
    sa::generate_request negative = embeds_request(18);
    negative.negative_prompt_embeds =
        at::randn({1, 6, 16}, at::detail::createCPUGenerator(99), at::TensorOptions().dtype(at::kFloat));
    negative.num_waveforms_per_prompt = 2;
    sa::generate_request no_cfg = embeds_request(19);
    no_cfg.guidance_scale = 1.0;
    for (const auto *r : {&plain, &negative, &no_cfg}) {
        std::vector<at::Tensor> steps_a, steps_b;
        sa::generate_callbacks ca, cb;
        ca.on_step = [&](const sa::step_trace &t) { steps_a.push_back(t.transformer_output); };
        cb.on_step = [&](const sa::step_trace &t) { steps_b.push_back(t.transformer_output); };
        const size_t logged_before = graph_log.size();
        const at::Tensor a = eager->generate(*r, ca).audio;
        const at::Tensor b = graphs->generate(*r, cb).audio;
        CHECK(graph_log.size() == logged_before);  // no capture attempted, nothing to warn about
        REQUIRE(steps_a.size() == steps_b.size());
        for (size_t i = 0; i < steps_a.size(); ++i) CHECK(at::equal(steps_a[i], steps_b[i]));
        CHECK(at::equal(a, b));
    }
}
