// In-process audio end to end through the real host: the real omnihost with this build's plugins
// folder and the demo models the build wrote. {"recipe":"demo-stable-audio-tiny"} routes (from the
// manifests) to the stable_audio plugin; generate-audio returns a WAV at the model's rate and
// channel count with the requested length; a run is cancelled mid-way; the audio endpoint refuses a
// video model and the video endpoint the audio model; bad durations / steps and broken models get
// clear 4xx answers or start errors while the host keeps serving.
#include <doctest/doctest.h>

#include <Poco/Base64Decoder.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <algorithm>
#include <thread>

#include <unistd.h>

#include "host_process.h"

using namespace omnihost_test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string decode_base64(const std::string &text) {
    std::istringstream in(text);
    Poco::Base64Decoder decoder(in);
    return std::string(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
}

uint32_t u32(const std::string &b, size_t at) {
    return uint32_t(uint8_t(b[at])) | uint32_t(uint8_t(b[at + 1])) << 8 | uint32_t(uint8_t(b[at + 2])) << 16 |
           uint32_t(uint8_t(b[at + 3])) << 24;
}
uint16_t u16(const std::string &b, size_t at) { return uint16_t(uint8_t(b[at]) | uint8_t(b[at + 1]) << 8); }

struct wav_facts {
    int channels = 0, rate = 0, bits = 0;
    int64_t frames = 0;
};

wav_facts read_wav(const std::string &w) {
    wav_facts f;
    REQUIRE(w.size() > 44);
    REQUIRE(w.substr(0, 4) == "RIFF");
    REQUIRE(w.substr(8, 4) == "WAVE");
    size_t at = 12;
    while (at + 8 <= w.size()) {
        const std::string id = w.substr(at, 4);
        const uint32_t size = u32(w, at + 4);
        if (id == "fmt ") {
            f.channels = u16(w, at + 10);
            f.rate = int(u32(w, at + 12));
            f.bits = u16(w, at + 22);
        } else if (id == "data" && f.channels > 0) {
            f.frames = int64_t(size) / (int64_t(f.bits / 8) * f.channels);
        }
        at += 8 + size + (size % 2);
    }
    return f;
}

host_config demo_host() { return {.plugin_dir = BUILD_PLUGIN_DIR, .shared_data_dir = DEMO_DATA_DIR}; }

void start_recipe(int port, const std::string &recipe, const std::string &plugin) {
    const auto started = post(port, "/api/omni/start", {{"recipe", recipe}});
    REQUIRE_MESSAGE(started.status == 202, started.body);
    CHECK(started.json()["plugin"] == plugin);
    const json status = wait_for_state(port, "ready", 180);
    REQUIRE_MESSAGE(status.value("state", "") == "ready", status.dump());
}

std::string error_of(const http_result &r) {
    const json j = r.json();
    return j.is_object() && j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>() : r.body;
}

}  // namespace

TEST_SUITE("audio_e2e") {

TEST_CASE("demo audio recipe -> stable_audio in-process -> WAV; cancel; modality refusals; bad input") {
    host_process host(demo_host());
    const int port = host.port();
    bool listed = false;
    const json plugins = get(port, "/api/omni/plugins").json();
    for (const auto &p : plugins["plugins"])
        if (p["id"] == "stable_audio") {
            listed = true;
            CHECK(p["kind"] == "inprocess");
            CHECK_MESSAGE(p.value("available", false), p.dump());
        }
    CHECK(listed);

    start_recipe(port, "demo-stable-audio-tiny", "stable_audio");
    CHECK(get(port, "/api/omni/status").json()["run_mode"] == "inprocess");

    // --- a WAV at the model's own rate and channels, exactly the requested length
    const auto audio = post(port, "/api/omni/generate-audio",
                            {{"text", "rain on a tin roof"}, {"audio_duration", 2.0}, {"num_inference_steps", 4}, {"seed", 3}});
    REQUIRE_MESSAGE(audio.status == 200, audio.body);
    const json a = audio.json();
    CHECK(a["success"] == true);
    CHECK(a["audio_format"] == "audio/wav");
    CHECK(a["duration"].get<double>() == doctest::Approx(2.0));
    CHECK(a["metadata"]["sampling_rate"] == 44100);
    CHECK(a["metadata"]["recipe"] == "demo-stable-audio-tiny");
    const wav_facts f = read_wav(decode_base64(a["audio_base64"].get<std::string>()));
    CHECK(f.rate == 44100);
    CHECK(f.channels == 2);
    CHECK(f.frames == 2 * 44100);
    // The recipe's defaults fill what the request leaves out (its duration: 5 s).
    const auto bare = post(port, "/api/omni/generate-audio", {{"text", "a bell"}, {"seed", 1}, {"num_inference_steps", 2}});
    REQUIRE_MESSAGE(bare.status == 200, bare.body);
    CHECK(read_wav(decode_base64(bare.json()["audio_base64"].get<std::string>())).frames == 5 * 44100);

    // --- the video endpoint refuses the audio model
    const auto video = post(port, "/api/omni/generate-video", {{"prompt", "x"}});
    CHECK(video.status == 409);
    CHECK_MESSAGE(error_of(video).rfind("In-process model is not a video model", 0) == 0, video.body);

    // --- bad input: clear 4xx naming the field; the model keeps serving
    struct bad { json body; const char *field; };
    const std::vector<bad> bads = {
        {{{"text", "x"}, {"audio_duration", 20.0}}, "audio_duration"},  // past the demo model's 11.89 s
        {{{"text", "x"}, {"audio_duration", 48.0}}, "audio_duration"},  // past any Stable Audio Open
        {{{"text", "x"}, {"audio_duration", -1.0}}, "audio_duration"},
        {{{"text", "x"}, {"num_inference_steps", 0}}, "num_inference_steps"},
        {{{"text", "x"}, {"num_inference_steps", -4}}, "num_inference_steps"},
        {{{"text", "x"}, {"output_format", "mp3"}}, "output_format"},
        {{{"audio_duration", 1.0}}, "text"},
    };
    for (const auto &b : bads) {
        CAPTURE(b.body.dump());
        const auto r = post(port, "/api/omni/generate-audio", b.body);
        CHECK(r.status == 400);
        CHECK_MESSAGE(error_of(r).rfind(b.field, 0) == 0, r.body);
    }
    CHECK(post(port, "/api/omni/generate-audio", {{"text", "after"}, {"audio_duration", 0.5}, {"num_inference_steps", 2}}).status == 200);

    // --- cancel mid-run by job id: 409 cancelled, the model stays ready and works after. The run
    // is as long as the operator limits allow (most steps, most waveforms) so it is still going
    // when the cancel arrives; the test waits for the job's progress, never on a fixed sleep.
    const json limits = get(port, "/api/omni/status").json().value("limits", json::object());
    const int steps = limits.value("max_steps", 1000);
    const int waveforms = std::min(8, limits.value("max_samples", 8));
    auto long_run = std::async(std::launch::async, [port, steps, waveforms] {
        return post(port, "/api/omni/generate-audio",
                    {{"text", "slow"}, {"audio_duration", 1.0}, {"num_inference_steps", steps},
                     {"num_waveforms_per_prompt", waveforms}, {"job_id", "audio-long"}});
    });
    json s;
    for (int i = 0; i < 12000; ++i) {
        s = get(port, "/api/omni/status").json();
        if (s["job"].is_object() && s["job"]["phase"] == "denoise" && s["job"]["step"].get<int>() >= 2) break;
        if (long_run.wait_for(std::chrono::milliseconds(5)) == std::future_status::ready) break;
    }
    REQUIRE_MESSAGE(s["job"].is_object(), s.dump());
    CHECK(s["job"]["id"] == "audio-long");
    CHECK(s["job"]["task"] == "audio");
    CHECK(s["job"]["total"] == steps);
    CHECK(post(port, "/api/omni/cancel", {{"job_id", "audio-long"}}).status == 200);
    const http_result cancelled = long_run.get();
    CHECK(cancelled.status == 409);
    CHECK(cancelled.json()["cancelled"] == true);
    CHECK(get(port, "/api/omni/status").json()["state"] == "ready");
    CHECK(post(port, "/api/omni/generate-audio", {{"text", "again"}, {"audio_duration", 0.5}, {"num_inference_steps", 2}}).status == 200);

    // --- the audio endpoint refuses a video model
    CHECK(post(port, "/api/omni/stop", json::object()).status == 200);
    start_recipe(port, "demo-wan-tiny", "video_diffusion");
    const auto refused = post(port, "/api/omni/generate-audio", {{"text", "hello"}});
    CHECK(refused.status == 409);
    CHECK_MESSAGE(error_of(refused).rfind("In-process model is not an audio model", 0) == 0, refused.body);
    CHECK(post(port, "/api/omni/stop", json::object()).status == 200);
}

TEST_CASE("a missing or corrupt component fails the start clearly; the host keeps serving") {
    // Broken copies of the demo model in a folder the operator names as a model root.
    const fs::path roots = fs::temp_directory_path() / ("sa_host_roots_" + std::to_string(::getpid()));
    fs::remove_all(roots);
    fs::create_directories(roots);
    struct cleanup {
        fs::path dir;
        ~cleanup() {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } remove_roots{roots};
    host_config config = demo_host();
    config.env["OMNIHOST_MODEL_ROOTS"] = roots.string();
    host_process host(config);
    const int port = host.port();
    const fs::path demo = fs::path(DEMO_DATA_DIR) / "models" / "stable-audio-tiny-demo";
    REQUIRE(fs::exists(demo / "model_index.json"));

    const fs::path missing = roots / "sa-missing-vae";
    fs::copy(demo, missing, fs::copy_options::recursive);
    fs::remove(missing / "vae" / "diffusion_pytorch_model.safetensors");
    const fs::path corrupt = roots / "sa-corrupt-dit";
    fs::copy(demo, corrupt, fs::copy_options::recursive);
    {
        std::ofstream out(corrupt / "transformer" / "diffusion_pytorch_model.safetensors", std::ios::binary | std::ios::trunc);
        out << "not a safetensors file";
    }
    for (const auto &[dir, needle] : {std::pair{missing, std::string("vae")}, std::pair{corrupt, std::string("transformer")}}) {
        CAPTURE(dir.string());
        const auto started = post(port, "/api/omni/start",
                                  {{"model", dir.string()}, {"model_type", "audio"}, {"run_mode", "subprocess"}, {"device", "cpu"}});
        REQUIRE_MESSAGE(started.status == 202, started.body);
        CHECK(started.json()["plugin"] == "stable_audio");
        const json status = wait_for_state(port, "failed", 120);
        REQUIRE_MESSAGE(status.value("state", "") == "failed", status.dump());
        const std::string error = status.dump();
        CHECK_MESSAGE(error.find("model") != std::string::npos, error);
        CHECK_MESSAGE(error.find(needle) != std::string::npos, error);
        // Not ready: generate is refused, not crashed.
        CHECK(post(port, "/api/omni/generate-audio", {{"text", "x"}}).status == 503);
    }
    // A folder outside every model root is refused without being looked at.
    const auto outside = post(port, "/api/omni/start",
                              {{"model", host.temp_dir().string()}, {"model_type", "audio"}, {"run_mode", "subprocess"}});
    REQUIRE_MESSAGE(outside.status == 202, outside.body);
    const json refused = wait_for_state(port, "failed", 60);
    CHECK_MESSAGE(refused.dump().find("outside the folders models may be loaded from") != std::string::npos, refused.dump());

    // A model_type the plugin does not serve in container mode is refused with the manifest's reason.
    const auto container = post(port, "/api/omni/start",
                                {{"model", demo.string()}, {"model_type", "audio"}, {"run_mode", "container"}});
    CHECK(container.status >= 400);
    CHECK(container.status < 500);
    CHECK_MESSAGE(error_of(container).find("in-process") != std::string::npos, container.body);

    // Still serving: the demo recipe starts and generates.
    start_recipe(port, "demo-stable-audio-tiny", "stable_audio");
    const auto ok = post(port, "/api/omni/generate-audio", {{"text", "fine"}, {"audio_duration", 1.0}, {"num_inference_steps", 2}});
    REQUIRE_MESSAGE(ok.status == 200, ok.body);
    CHECK(read_wav(decode_base64(ok.json()["audio_base64"].get<std::string>())).frames == 44100);
}

}
