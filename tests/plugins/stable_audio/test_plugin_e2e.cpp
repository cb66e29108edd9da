// End to end through the C ABI: the built stable_audio plugin loads the Stable Audio demo model
// written by omnihost-make-demo-model, generates WAV that reads back at the model's rate and
// channel count with exactly the requested length and the generation tags, keeps the seed promise,
// refuses bad input with errors naming the field while staying usable, stops on cancel without
// decoding, and fails clearly on missing or corrupt components.
#include "plugin_harness.h"
#include "plugin_instance.h"

#include "media/media_probe.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#ifndef SA_PLUGIN_PATH
#error "SA_PLUGIN_PATH must name the built plugin"
#endif
#ifndef SA_MAKE_DEMO_MODEL
#error "SA_MAKE_DEMO_MODEL must name the demo model tool"
#endif

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace inprocess_test;

namespace {

// One demo model per test process, written by the real tool into a temporary data_dir.
const fs::path &data_dir() {
    static const fs::path dir = [] {
        fs::path d = fs::temp_directory_path() / ("sa_e2e_" + std::to_string(::getpid()));
        fs::remove_all(d);
        fs::create_directories(d / "models");
        const std::string cmd =
            std::string(SA_MAKE_DEMO_MODEL) + " " + (d / "models" / "audio").string() + " --stable-audio > /dev/null";
        REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "omnihost-make-demo-model failed: " << cmd);
        return d;
    }();
    return dir;
}

struct cleanup {
    ~cleanup() {
        std::error_code ec;
        fs::remove_all(fs::temp_directory_path() / ("sa_e2e_" + std::to_string(::getpid())), ec);
    }
} g_cleanup;

json demo_start() {
    return {{"model", "models/audio"}, {"model_type", "audio"}, {"run_mode", "subprocess"}, {"device", "cpu"},
            {"dtype", "float32"}, {"threads", 2}, {"enable_cpu_offload", true}, {"enforce_eager", true}};
}

json demo_request(uint64_t seed) {
    return {{"task", "audio"}, {"text", "rain on a tin roof"}, {"negative_prompt", "low quality"},
            {"audio_duration", 1.5}, {"num_inference_steps", 4}, {"guidance_scale", 7.0}, {"seed", seed}};
}

bool starts_with(const std::string &s, const std::string &p) { return s.rfind(p, 0) == 0; }

uint32_t u32(const std::vector<uint8_t> &b, size_t at) {
    return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 | uint32_t(b[at + 3]) << 24;
}
uint16_t u16(const std::vector<uint8_t> &b, size_t at) { return uint16_t(b[at] | b[at + 1] << 8); }

struct wav_facts {
    int channels = 0, rate = 0, bits = 0;
    int64_t frames = 0;
    int max_abs = 0;  // largest |sample| in int16 units
};

// Walks the RIFF chunks of a WAV the plugin wrote.
wav_facts read_wav(const std::vector<uint8_t> &w) {
    wav_facts f;
    REQUIRE(w.size() > 44);
    REQUIRE(std::string(w.begin(), w.begin() + 4) == "RIFF");
    REQUIRE(std::string(w.begin() + 8, w.begin() + 12) == "WAVE");
    size_t at = 12;
    while (at + 8 <= w.size()) {
        const std::string id(w.begin() + at, w.begin() + at + 4);
        const uint32_t size = u32(w, at + 4);
        if (id == "fmt ") {
            f.channels = u16(w, at + 10);
            f.rate = int(u32(w, at + 12));
            f.bits = u16(w, at + 22);
        } else if (id == "data") {
            REQUIRE(f.channels > 0);
            f.frames = int64_t(size) / (2 * f.channels);
            for (size_t i = 0; i + 1 < size; i += 2)
                f.max_abs = std::max(f.max_abs, std::abs(int(int16_t(u16(w, at + 8 + i)))));
        }
        at += 8 + size + (size % 2);
    }
    return f;
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("start the demo model, generate, decode the WAV; seeds, formats, bad input and cancel") {
    loaded_plugin plugin(SA_PLUGIN_PATH);
    REQUIRE(plugin.entry->abi_major == OMNIHOST_ABI_MAJOR);
    CHECK(std::string(plugin.entry->id) == "stable_audio");
    instance sa(plugin, {{"data_dir", data_dir().string()}});

    test_job job0;
    omnihost_result *res = nullptr;
    CHECK(sa.generate(demo_request(1), job0, &res) == OMNIHOST_UNAVAILABLE);
    CHECK(res == nullptr);

    // --- start: the settings are logged as requested, the load reports progress
    test_job load_job;
    REQUIRE_MESSAGE(sa.start(demo_start(), load_job) == OMNIHOST_OK, sa.error() << "\n" << plugin.log.all());
    CHECK(load_job.count("load") >= 1);
    CHECK_MESSAGE(plugin.log.contains("settings: device=cpu dtype=fp32 threads=2 enable_cpu_offload=on"), plugin.log.all());
    CHECK_MESSAGE(plugin.log.contains("2 channel(s) at 44100 Hz"), plugin.log.all());
    const std::string health = sa.health();
    CHECK(json::parse(health)["ready"] == true);
    omnihost_status preview_status = OMNIHOST_INTERNAL;
    const std::string preview = sa.preview(demo_start(), preview_status);
    REQUIRE_MESSAGE(preview_status == OMNIHOST_OK, sa.error());
    const json pj = json::parse(preview);
    CHECK(pj["kind"] == "inprocess");
    CHECK(pj["settings"]["enable_cpu_offload"] == true);

    // --- generate: 44.1 kHz stereo, exactly 1.5 s, peak-normalised, tagged
    test_job job;
    REQUIRE_MESSAGE(sa.generate(demo_request(5), job, &res) == OMNIHOST_OK, sa.error());
    REQUIRE(res != nullptr);
    CHECK(std::string(res->mime_type) == "audio/wav");
    CHECK(job.count("denoise") == 4);
    const std::vector<uint8_t> wav(res->data, res->data + res->size);
    const json meta = json::parse(res->metadata_json);
    plugin.entry->release_result(sa.inst, res);
    const wav_facts f = read_wav(wav);
    CHECK(f.channels == 2);
    CHECK(f.rate == 44100);
    CHECK(f.bits == 16);
    CHECK(f.frames == int64_t(1.5 * 44100));
    CHECK(f.max_abs == 32767);  // normalised to full scale, as the playground did
    CHECK(meta["duration"].get<double>() == doctest::Approx(1.5));
    CHECK(meta["sampling_rate"] == 44100);
    CHECK(meta["channels"] == 2);
    CHECK(meta["samples"] == int64_t(1.5 * 44100));
    CHECK(meta["seed"] == 5);
    CHECK(meta["steps"] == 4);
    CHECK(meta["model"] == "models/audio");
    CHECK(meta["peak"]["mode"] == "normalize");
    auto info = omnihost::media::probe_media(wav, false);
    CHECK(info.metadata["title"] == "rain on a tin roof");
    const std::string comment = info.metadata["comment"];
    for (const char *line : {"prompt: rain on a tin roof", "seed: 5", "steps: 4", "model: models/audio", "peak_handling: normalize"})
        CHECK_MESSAGE(comment.find(line) != std::string::npos, comment);
    CHECK(comment.find(data_dir().string()) == std::string::npos);

    // --- the seed promise: same seed, same bytes; another seed, other audio; none given -> drawn
    CHECK(sa.ok(demo_request(5)).first == wav);
    CHECK(sa.ok(demo_request(6)).first != wav);
    json no_seed = demo_request(0);
    no_seed.erase("seed");
    CHECK(sa.ok(no_seed).second["seed"].is_number_unsigned());

    // --- a later window: length is end - start; several waveforms; FLAC and Ogg/Opus
    json window = demo_request(7);
    window["audio_start_in_s"] = 1.0;
    window["audio_duration"] = 0.5;
    CHECK(read_wav(sa.ok(window).first).frames == int64_t(1.5 * 44100) - int64_t(1.0 * 44100));
    json two = demo_request(8);
    two["num_waveforms_per_prompt"] = 2;
    two["audio_duration"] = 0.5;
    const json two_meta = sa.ok(two).second;
    CHECK(two_meta["waveforms"] == 2);
    REQUIRE(two_meta["extra_audio_base64"].size() == 1);
    CHECK(two_meta["extra_audio_base64"][0].get<std::string>().rfind("UklGR", 0) == 0);  // "RIFF"
    json flac = demo_request(9);
    flac["output_format"] = "flac";
    const auto [flac_bytes, flac_meta] = sa.ok(flac);
    CHECK(flac_meta["_mime"] == "audio/flac");
    const auto fi = omnihost::media::probe_media(flac_bytes, false);
    CHECK(fi.audio_codec == "flac");
    CHECK(fi.sample_rate == 44100);
    CHECK(fi.channels == 2);
    json ogg = demo_request(9);
    ogg["output_format"] = "ogg";
    const auto [ogg_bytes, ogg_meta] = sa.ok(ogg);
    CHECK(ogg_meta["_mime"] == "audio/ogg");
    CHECK(omnihost::media::probe_media(ogg_bytes, false).audio_codec == "opus");

    // --- bad requests: errors naming the field; the instance keeps working
    struct bad { json patch; const char *error; };
    const std::vector<bad> bads = {
        {{{"audio_duration", 20.0}}, "audio_duration: audio would end at 20 s, past this model's limit of 11.89 s"},
        {{{"audio_duration", -1.0}}, "audio_duration: must be > 0"},
        {{{"audio_duration", 0}}, "audio_duration: must be > 0"},
        {{{"audio_start_in_s", 11.0}, {"audio_duration", 2.0}}, "audio_duration: audio would end at 13 s"},
        {{{"num_inference_steps", 0}}, "num_inference_steps: must be > 0"},
        {{{"num_inference_steps", -3}}, "num_inference_steps: must be > 0"},
        {{{"text", nullptr}}, "text: is required"},
        {{{"output_format", "mp3"}}, "output_format:"},
    };
    for (const auto &b : bads) {
        json req = demo_request(1);
        for (auto it = b.patch.begin(); it != b.patch.end(); ++it) req[it.key()] = it.value();
        test_job bj;
        CHECK(sa.generate(req, bj, &res) == OMNIHOST_INVALID_ARGUMENT);
        CHECK_MESSAGE(starts_with(sa.error(), b.error), "got: " << sa.error());
        CHECK(bj.count("denoise") == 0);
    }
    sa.ok(demo_request(2));

    // --- cancel mid-run: after the 2nd denoising step; no result, nothing decoded or exported
    test_job cj;
    cj.on_progress = [&](int step, int, const std::string &phase) {
        if (phase == "denoise" && step == 2) cj.cancel = true;
    };
    json longer = demo_request(3);
    longer["num_inference_steps"] = 200;
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(sa.generate(longer, cj, &res) == OMNIHOST_CANCELLED);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(res == nullptr);
    CHECK(cj.count("denoise") == 2);
    CHECK(cj.count("decode") == 0);
    CHECK(cj.count("export") == 0);
    MESSAGE("cancelled after 2 of 200 steps in " << secs << " s");
    sa.ok(demo_request(4));

    CHECK(sa.stop() == OMNIHOST_OK);
    CHECK(sa.stop() == OMNIHOST_OK);  // idempotent
    test_job after_stop;
    CHECK(sa.generate(demo_request(4), after_stop, &res) == OMNIHOST_UNAVAILABLE);
}

TEST_CASE("enforce_eager reaches the pipeline: on the CPU the log says eager and why, and the bytes are the same") {
    loaded_plugin plugin(SA_PLUGIN_PATH);
    instance sa(plugin, {{"data_dir", data_dir().string()}});
    json start = demo_start();
    start["enable_cpu_offload"] = false;
    test_job eager_load;
    REQUIRE_MESSAGE(sa.start(start, eager_load) == OMNIHOST_OK, sa.error() << "\n" << plugin.log.all());
    CHECK_MESSAGE(plugin.log.contains("enforce_eager: on; the denoising step runs eagerly"), plugin.log.all());
    const std::vector<uint8_t> eager_wav = sa.ok(demo_request(12)).first;

    start["enforce_eager"] = false;
    omnihost_status preview_status = OMNIHOST_INTERNAL;
    const json preview = json::parse(sa.preview(start, preview_status));
    REQUIRE_MESSAGE(preview_status == OMNIHOST_OK, sa.error());
    CHECK(preview["settings"]["enforce_eager"] == false);
    CHECK_MESSAGE(preview["command"].get<std::string>().find("enforce_eager=off") != std::string::npos, preview.dump());
    test_job graph_load;
    REQUIRE_MESSAGE(sa.start(start, graph_load) == OMNIHOST_OK, sa.error() << "\n" << plugin.log.all());
    CHECK_MESSAGE(plugin.log.contains("settings: device=cpu dtype=fp32 threads=2 enable_cpu_offload=off enforce_eager=off"),
                  plugin.log.all());
    CHECK_MESSAGE(plugin.log.contains("enforce_eager: off requested, but graph capture needs a CUDA device (the compute "
                                      "device is cpu)"), plugin.log.all());
    CHECK(sa.ok(demo_request(12)).first == eager_wav);
    CHECK_FALSE(plugin.log.contains("CUDA graph capture failed"));
    CHECK(sa.stop() == OMNIHOST_OK);
}

TEST_CASE("start failures are clear (missing model, missing or corrupt component, no text encoder) and recoverable") {
    loaded_plugin plugin(SA_PLUGIN_PATH);
    instance sa(plugin, {{"data_dir", data_dir().string()}});
    const fs::path demo = data_dir() / "models" / "audio";
    auto start_error = [&](const json &start) -> std::pair<omnihost_status, std::string> {
        test_job j;
        const omnihost_status s = sa.start(start, j);
        return {s, sa.error()};
    };
    json s = demo_start();

    s["model"] = "models/absent";
    auto [st1, e1] = start_error(s);
    CHECK(st1 == OMNIHOST_INVALID_ARGUMENT);
    CHECK(starts_with(e1, "model: model 'models/absent' was not found; looked in:"));

    // A copy with the VAE weights removed.
    const fs::path broken = data_dir() / "models" / "broken";
    fs::remove_all(broken);
    fs::copy(demo, broken, fs::copy_options::recursive);
    fs::remove(broken / "vae" / "diffusion_pytorch_model.safetensors");
    s["model"] = broken.string();
    auto [st2, e2] = start_error(s);
    CHECK(st2 == OMNIHOST_INVALID_ARGUMENT);
    CHECK_MESSAGE(starts_with(e2, "model:"), e2);
    CHECK_MESSAGE(e2.find("vae") != std::string::npos, e2);

    // A corrupt safetensors header (length prefix far beyond the file) in the transformer.
    fs::copy_file(demo / "vae" / "diffusion_pytorch_model.safetensors", broken / "vae" / "diffusion_pytorch_model.safetensors");
    {
        std::ofstream out(broken / "transformer" / "diffusion_pytorch_model.safetensors", std::ios::binary | std::ios::trunc);
        const uint64_t n = 1ull << 40;
        out.write(reinterpret_cast<const char *>(&n), 8);
        out << "{\"oops\":";
    }
    auto [st3, e3] = start_error(s);
    CHECK(st3 == OMNIHOST_INVALID_ARGUMENT);
    CHECK_MESSAGE(e3.find("diffusion_pytorch_model.safetensors") != std::string::npos, e3);

    // A model whose index lists no text encoder cannot take text prompts.
    const fs::path textless = data_dir() / "models" / "textless";
    fs::remove_all(textless);
    fs::copy(demo, textless, fs::copy_options::recursive);
    {
        std::ifstream in(textless / "model_index.json");
        json index = json::parse(in);
        index["text_encoder"] = {nullptr, nullptr};
        index["tokenizer"] = {nullptr, nullptr};
        std::ofstream(textless / "model_index.json") << index.dump(2);
    }
    s["model"] = textless.string();
    auto [st4, e4] = start_error(s);
    CHECK(st4 == OMNIHOST_INVALID_ARGUMENT);
    CHECK_MESSAGE(starts_with(e4, "model:"), e4);

    // Outside the model roots: one fixed refusal, in start and in the command preview alike.
    s["model"] = fs::temp_directory_path().string();
    auto [st6, e6] = start_error(s);
    CHECK(st6 == OMNIHOST_INVALID_ARGUMENT);
    CHECK_MESSAGE(starts_with(e6, "model: the path is outside the folders models may be loaded from"), e6);
    omnihost_status preview_status = OMNIHOST_OK;
    sa.preview(s, preview_status);
    CHECK(preview_status == OMNIHOST_INVALID_ARGUMENT);
    CHECK(sa.error() == e6);

    s = demo_start();
    s["dtype"] = "float16";
    auto [st5, e5] = start_error(s);
    CHECK(st5 == OMNIHOST_INVALID_ARGUMENT);
    CHECK(starts_with(e5, "dtype:"));

    // Cancelled while loading.
    test_job cancel_load;
    cancel_load.cancel = true;
    CHECK(sa.start(demo_start(), cancel_load) == OMNIHOST_CANCELLED);

    // Still serves after all of that.
    test_job good;
    REQUIRE_MESSAGE(sa.start(demo_start(), good) == OMNIHOST_OK, sa.error());
    json small = demo_request(9);
    small["num_inference_steps"] = 1;
    CHECK(read_wav(sa.ok(small).first).frames == int64_t(1.5 * 44100));
}
}
