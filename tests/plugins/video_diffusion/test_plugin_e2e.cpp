// End to end through the C ABI: the built plugin loads the demo model written by
// omnihost-make-demo-model, generates an MP4 that decodes back with the requested frames, size, fps
// and metadata, refuses bad input with clear errors while staying usable, and stops on cancel.
#include "plugin_harness.h"
#include "plugin_instance.h"

#include "media/media_probe.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef VD_PLUGIN_PATH
#error "VD_PLUGIN_PATH must name the built plugin"
#endif
#ifndef VD_MAKE_DEMO_MODEL
#error "VD_MAKE_DEMO_MODEL must name the demo model tool"
#endif

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace inprocess_test;

namespace {

// One demo model per test process, written by the real tool into a temporary data_dir.
const fs::path &data_dir() {
    static const fs::path dir = [] {
        fs::path d = fs::temp_directory_path() / ("vd_e2e_" + std::to_string(::getpid()));
        fs::remove_all(d);
        fs::create_directories(d / "models");
        const std::string cmd = std::string(VD_MAKE_DEMO_MODEL) + " " + (d / "models" / "demo").string() + " > /dev/null";
        REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "omnihost-make-demo-model failed: " << cmd);
        return d;
    }();
    return dir;
}

// A folder outside data_dir (and outside every model root) for the confinement tests.
fs::path outside_dir() { return fs::temp_directory_path() / ("vd_e2e_outside_" + std::to_string(::getpid())); }

struct cleanup {
    ~cleanup() {
        std::error_code ec;
        fs::remove_all(fs::temp_directory_path() / ("vd_e2e_" + std::to_string(::getpid())), ec);
        fs::remove_all(outside_dir(), ec);
    }
} g_cleanup;

json demo_start() {
    return {{"model", "models/demo"}, {"model_type", "video"}, {"run_mode", "subprocess"},
            {"device", "cpu"}, {"dtype", "fp32"}, {"threads", 2}, {"vae_use_slicing", true},
            {"vae_use_tiling", true}, {"flow_shift", 3.0}, {"enable_cpu_offload", true},
            {"enforce_eager", true}};
}

json demo_request(uint64_t seed) {
    return {{"task", "video"}, {"prompt", "a red fox runs across a snowy field"},
            {"negative_prompt", "blurry"}, {"height", 64}, {"width", 64}, {"duration", 1},
            {"fps", 8}, {"num_inference_steps", 4}, {"guidance_scale", 4.0}, {"seed", seed}};
}

bool starts_with(const std::string &s, const std::string &p) { return s.rfind(p, 0) == 0; }

// Runs `fn` on a thread; when it has not returned by the deadline it is blocked on the FIFO
// `fifo`, which is then given a writer (and closed) to release it, and the hang is reported.
template <typename Fn>
auto without_hang(const fs::path &fifo, Fn fn, bool &hung) {
    auto fut = std::async(std::launch::async, fn);
    hung = fut.wait_for(std::chrono::seconds(30)) != std::future_status::ready;
    while (fut.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
        const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // succeeds once a reader waits
        if (fd >= 0) ::close(fd);
    }
    return fut.get();
}

}  // namespace

TEST_SUITE("e2e") {
TEST_CASE("start the demo model, generate, decode the MP4; bad input and cancel keep it serving") {
    loaded_plugin plugin(VD_PLUGIN_PATH);
    REQUIRE(plugin.entry->abi_major == OMNIHOST_ABI_MAJOR);
    CHECK(std::string(plugin.entry->id) == "video_diffusion");
    instance vd(plugin, {{"data_dir", data_dir().string()}, {"max_pixels", 128 * 128}, {"max_frames", 33}});

    test_job job0;
    omnihost_result *res = nullptr;
    CHECK(vd.generate(demo_request(1), job0, &res) == OMNIHOST_UNAVAILABLE);
    CHECK(res == nullptr);

    // --- start: every setting is logged as really applied
    test_job load_job;
    REQUIRE_MESSAGE(vd.start(demo_start(), load_job) == OMNIHOST_OK, vd.error() << "\n" << plugin.log.all());
    CHECK(load_job.count("load") >= 4);
    for (const char *line : {"device: cpu", "dtype: fp32", "threads: 2", "vae_use_slicing: on", "vae_use_tiling: on",
                             "flow_shift 3", "overrides scheduler_config.json", "nothing to offload", "enforce_eager: on"})
        CHECK_MESSAGE(plugin.log.contains(line), "missing load log line: " << line << "\n" << plugin.log.all());
    const std::string health = vd.health();
    CHECK(json::parse(health)["ready"] == true);

    omnihost_status preview_status = OMNIHOST_INTERNAL;
    const std::string preview = vd.preview(demo_start(), preview_status);
    REQUIRE_MESSAGE(preview_status == OMNIHOST_OK, vd.error());
    const json pj = json::parse(preview);
    CHECK(pj["kind"] == "inprocess");
    CHECK(pj["settings"]["vae_use_tiling"] == true);
    CHECK(pj["command"].get<std::string>().find("flow_shift=3") != std::string::npos);

    // --- generate and decode
    test_job job;
    REQUIRE_MESSAGE(vd.generate(demo_request(5), job, &res) == OMNIHOST_OK, vd.error());
    REQUIRE(res != nullptr);
    CHECK(std::string(res->mime_type) == "video/mp4");
    CHECK(job.count("denoise") == 4);
    std::vector<uint8_t> mp4(res->data, res->data + res->size);
    const json meta = json::parse(res->metadata_json);
    plugin.entry->release_result(vd.inst, res);
    auto info = omnihost::media::probe_media(mp4, true);
    CHECK(info.video_codec == "h264");
    CHECK(info.pixel_format == "yuv420p");
    CHECK(info.width == 64);
    CHECK(info.height == 64);
    CHECK(info.frames_decoded == 9);  // 1 s x 8 fps = 8 -> 4k+1 = 9
    CHECK(info.fps == doctest::Approx(8.0));
    CHECK(info.metadata["prompt"] == "a red fox runs across a snowy field");
    CHECK(info.metadata["seed"] == "5");
    CHECK(info.metadata["steps"] == "4");
    CHECK(info.metadata["model"] == "models/demo");
    CHECK(meta["frames"] == 9);
    CHECK(meta["fps"] == 8);
    CHECK(meta["width"] == 64);
    CHECK(meta["height"] == 64);
    CHECK(meta["seed"] == 5);
    CHECK(meta["steps"] == 4);
    CHECK(meta["model"] == "models/demo");
    CHECK(meta["duration"].get<double>() == doctest::Approx(9.0 / 8.0));

    // Same seed, same frames; a missing seed is drawn and reported.
    test_job job2;
    REQUIRE(vd.generate(demo_request(5), job2, &res) == OMNIHOST_OK);
    auto again = omnihost::media::probe_media(std::vector<uint8_t>(res->data, res->data + res->size), true);
    plugin.entry->release_result(vd.inst, res);
    CHECK(again.rgb24 == info.rgb24);
    json no_seed = demo_request(0);
    no_seed.erase("seed");
    test_job job3;
    REQUIRE(vd.generate(no_seed, job3, &res) == OMNIHOST_OK);
    CHECK(json::parse(res->metadata_json)["seed"].is_number_unsigned());
    plugin.entry->release_result(vd.inst, res);

    // --- bad requests: clear errors naming the field; the instance keeps working
    struct bad { json patch; const char *field; };
    const std::vector<bad> bads = {
        {{{"height", 72}}, "height: must be a multiple of 16"},
        {{{"width", 50}}, "width: must be a multiple of 16"},
        {{{"num_inference_steps", 0}}, "num_inference_steps: must be > 0"},
        {{{"num_inference_steps", -2}}, "num_inference_steps: must be > 0"},
        {{{"height", 256}, {"width", 256}}, "width: 256x256 is 65536 pixels, over the limit max_pixels=16384"},
        {{{"duration", 10}}, "duration: 81 frames is over the limit max_frames=33"},
        {{{"prompt", nullptr}}, "prompt: is required"},
        {{{"guidance_scale_2", 2.0}}, "guidance_scale_2:"},
    };
    for (const auto &b : bads) {
        json req = demo_request(1);
        for (auto it = b.patch.begin(); it != b.patch.end(); ++it) req[it.key()] = it.value();
        test_job bj;
        CHECK(vd.generate(req, bj, &res) == OMNIHOST_INVALID_ARGUMENT);
        CHECK_MESSAGE(starts_with(vd.error(), b.field), "got: " << vd.error());
    }
    test_job ok_job;
    REQUIRE(vd.generate(demo_request(2), ok_job, &res) == OMNIHOST_OK);
    plugin.entry->release_result(vd.inst, res);

    // --- cancel mid-run: after the 2nd denoising step; returns quickly, no result, decode skipped
    test_job cj;
    cj.on_progress = [&](int step, int, const std::string &phase) {
        if (phase == "denoise" && step == 2) cj.cancel = true;
    };
    json longer = demo_request(3);
    longer["num_inference_steps"] = 50;
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(vd.generate(longer, cj, &res) == OMNIHOST_CANCELLED);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(res == nullptr);
    CHECK(cj.count("denoise") == 2);
    CHECK(cj.count("decode") == 0);
    MESSAGE("cancelled after 2 of 50 steps in " << secs << " s");
    test_job after_cancel;
    REQUIRE(vd.generate(demo_request(4), after_cancel, &res) == OMNIHOST_OK);
    plugin.entry->release_result(vd.inst, res);

    CHECK(vd.stop() == OMNIHOST_OK);
    CHECK(vd.stop() == OMNIHOST_OK);  // idempotent
    test_job after_stop;
    CHECK(vd.generate(demo_request(4), after_stop, &res) == OMNIHOST_UNAVAILABLE);
}

TEST_CASE("start failures are clear (missing model, missing files, corrupt header, bad dtype) and recoverable") {
    loaded_plugin plugin(VD_PLUGIN_PATH);
    instance vd(plugin, {{"data_dir", data_dir().string()}});
    const fs::path demo = data_dir() / "models" / "demo";

    auto start_error = [&](const json &start) -> std::pair<omnihost_status, std::string> {
        test_job j;
        const omnihost_status s = vd.start(start, j);
        return {s, vd.error()};
    };
    json s = demo_start();

    s["model"] = "models/absent";
    auto [st1, e1] = start_error(s);
    CHECK(st1 == OMNIHOST_INVALID_ARGUMENT);
    CHECK(starts_with(e1, "model: model 'models/absent' was not found; looked in:"));
    CHECK(e1.find((data_dir() / "models/absent").string()) != std::string::npos);

    // A copy with the transformer weights removed.
    const fs::path broken = data_dir() / "models" / "broken";
    fs::remove_all(broken);
    fs::copy(demo, broken, fs::copy_options::recursive);
    fs::remove(broken / "transformer" / "diffusion_pytorch_model.safetensors");
    s["model"] = broken.string();
    auto [st2, e2] = start_error(s);
    CHECK(st2 == OMNIHOST_INVALID_ARGUMENT);
    CHECK_MESSAGE(e2.find("transformer") != std::string::npos, e2);

    // A corrupt safetensors header (length prefix far beyond the file).
    {
        std::ofstream f(broken / "transformer" / "diffusion_pytorch_model.safetensors", std::ios::binary);
        const uint64_t n = 1ull << 40;
        f.write(reinterpret_cast<const char *>(&n), 8);
        f << "{\"oops\":";
    }
    auto [st3, e3] = start_error(s);
    CHECK(st3 == OMNIHOST_INVALID_ARGUMENT);
    CHECK_MESSAGE(e3.find("diffusion_pytorch_model.safetensors") != std::string::npos, e3);

    s = demo_start();
    s["dtype"] = "fp16";
    auto [st4, e4] = start_error(s);
    CHECK(st4 == OMNIHOST_INVALID_ARGUMENT);
    CHECK_MESSAGE(e4.find("dtype") != std::string::npos, e4);

    s = demo_start();
    s["vae_use_tiling"] = "yes";
    auto [st5, e5] = start_error(s);
    CHECK(st5 == OMNIHOST_INVALID_ARGUMENT);
    CHECK(starts_with(e5, "vae_use_tiling:"));

    // Cancelled while loading.
    test_job cancel_load;
    cancel_load.cancel = true;
    CHECK(vd.start(demo_start(), cancel_load) == OMNIHOST_CANCELLED);

    // Still serves after all of that.
    test_job good;
    REQUIRE_MESSAGE(vd.start(demo_start(), good) == OMNIHOST_OK, vd.error());
    omnihost_result *res = nullptr;
    test_job gen;
    json small = demo_request(9);
    small["num_inference_steps"] = 1;
    REQUIRE_MESSAGE(vd.generate(small, gen, &res) == OMNIHOST_OK, vd.error());
    plugin.entry->release_result(vd.inst, res);
}

TEST_CASE("outputs name the model by its id or recipe, never by a local path") {
    loaded_plugin plugin(VD_PLUGIN_PATH);
    instance vd(plugin, {{"data_dir", data_dir().string()}});
    // As the host sends a data_dir recipe: the model made absolute, the recipe id beside it.
    json start = demo_start();
    start["model"] = (data_dir() / "models" / "demo").string();
    start["recipe"] = "demo-wan-tiny";
    test_job load;
    REQUIRE_MESSAGE(vd.start(start, load) == OMNIHOST_OK, vd.error());
    json req = demo_request(11);
    req["num_inference_steps"] = 1;
    test_job gen;
    omnihost_result *res = nullptr;
    REQUIRE_MESSAGE(vd.generate(req, gen, &res) == OMNIHOST_OK, vd.error());
    const std::vector<uint8_t> mp4(res->data, res->data + res->size);
    const json meta = json::parse(res->metadata_json);
    plugin.entry->release_result(vd.inst, res);

    const auto info = omnihost::media::probe_media(mp4, false);
    CHECK(info.metadata.at("model") == "models/demo");
    CHECK(info.metadata.at("recipe") == "demo-wan-tiny");
    CHECK(meta["model"] == "models/demo");
    CHECK(meta["recipe"] == "demo-wan-tiny");
    // No tag and no metadata value carries a local absolute path.
    for (const auto &[key, value] : info.metadata) {
        INFO("MP4 tag " << key << " = " << value);
        CHECK(value.find(data_dir().string()) == std::string::npos);
        CHECK_FALSE(starts_with(value, "/"));
    }
    for (auto it = meta.begin(); it != meta.end(); ++it) {
        if (!it->is_string()) continue;
        INFO("metadata " << it.key() << " = " << it->get<std::string>());
        CHECK(it->get<std::string>().find(data_dir().string()) == std::string::npos);
        CHECK_FALSE(starts_with(it->get<std::string>(), "/"));
    }
    const std::string health = vd.health();
    CHECK(std::string(health).find(data_dir().string()) == std::string::npos);
}

TEST_CASE("a model outside the roots is refused by start and preview alike, whether or not it exists") {
    loaded_plugin plugin(VD_PLUGIN_PATH);
    instance vd(plugin, {{"data_dir", data_dir().string()}});
    // A complete, loadable copy of the demo model outside data_dir, and links/'..' leading to it.
    fs::remove_all(outside_dir());
    fs::create_directories(outside_dir());
    fs::copy(data_dir() / "models" / "demo", outside_dir() / "demo", fs::copy_options::recursive);
    std::error_code ec;
    fs::remove(data_dir() / "models" / "link_out", ec);
    fs::create_directory_symlink(outside_dir() / "demo", data_dir() / "models" / "link_out");
    const std::string dotdot =
        (data_dir() / "models" / ".." / ".." / outside_dir().filename() / "demo").string();

    auto start_answer = [&](const std::string &model) {
        json s = demo_start();
        s["model"] = model;
        test_job j;
        const omnihost_status st = vd.start(s, j);
        return std::make_pair(st, vd.error());
    };
    auto preview_answer = [&](const std::string &model) {
        json s = demo_start();
        s["model"] = model;
        omnihost_status st = OMNIHOST_OK;
        const std::string out = vd.preview(s, st);
        return std::make_pair(st, st == OMNIHOST_OK ? out : vd.error());
    };
    const auto existing = start_answer((outside_dir() / "demo").string());
    CHECK(existing.first == OMNIHOST_INVALID_ARGUMENT);
    CHECK(starts_with(existing.second, "model: "));
    CHECK(existing.second.find("outside the folders models may be loaded from") != std::string::npos);
    CHECK(start_answer((outside_dir() / "absent").string()) == existing);
    CHECK(start_answer("/etc") == existing);
    CHECK(start_answer("models/link_out") == existing);
    CHECK(start_answer(dotdot) == existing);
    CHECK(start_answer("../" + outside_dir().filename().string() + "/demo") == existing);

    // The preview gives the same refusal, identical for an existing and a missing outside path.
    const auto p_existing = preview_answer((outside_dir() / "demo").string());
    const auto p_missing = preview_answer((outside_dir() / "no-such-model").string());
    CHECK(p_existing.first == OMNIHOST_INVALID_ARGUMENT);
    CHECK(p_existing == p_missing);
    CHECK(p_existing.second == existing.second);
    // Inside the roots the preview still works, and notes a missing folder.
    const auto p_inside = preview_answer("models/demo");
    CHECK(p_inside.first == OMNIHOST_OK);
    const auto p_inside_missing = preview_answer("models/not-yet");
    REQUIRE(p_inside_missing.first == OMNIHOST_OK);
    CHECK(json::parse(p_inside_missing.second)["model_path"] == "models/not-yet (not found yet)");

    // The operator can add the folder as a model root (create config model_roots); then it loads.
    instance with_root(plugin, {{"data_dir", data_dir().string()}, {"model_roots", {outside_dir().string()}}});
    json s = demo_start();
    s["model"] = (outside_dir() / "demo").string();
    test_job ok;
    CHECK_MESSAGE(with_root.start(s, ok) == OMNIHOST_OK, with_root.error());
    fs::remove(data_dir() / "models" / "link_out", ec);
}

TEST_CASE("FIFOs in the model folder and absurd config values: start fails promptly, naming the file or key") {
    loaded_plugin plugin(VD_PLUGIN_PATH);
    instance vd(plugin, {{"data_dir", data_dir().string()}});
    const fs::path model = data_dir() / "models" / "hostile";
    auto fresh_copy = [&] {
        fs::remove_all(model);
        fs::copy(data_dir() / "models" / "demo", model, fs::copy_options::recursive);
    };
    auto start_error = [&](const fs::path &fifo, bool &hung) {
        return without_hang(fifo, [&] {
            json s = demo_start();
            s["model"] = "models/hostile";
            test_job j;
            const omnihost_status st = vd.start(s, j);
            return std::make_pair(st, vd.error());
        }, hung);
    };
    for (const char *file : {"transformer/config.json", "transformer/diffusion_pytorch_model.safetensors",
                             "model_index.json", "vae/config.json", "tokenizer/spiece.model",
                             "text_encoder/model.safetensors", "scheduler/scheduler_config.json"}) {
        INFO(file);
        fresh_copy();
        REQUIRE(fs::exists(model / file));
        fs::remove(model / file);
        REQUIRE(::mkfifo((model / file).c_str(), 0600) == 0);
        bool hung = false;
        const auto [st, err] = start_error(model / file, hung);
        CHECK_FALSE(hung);
        CHECK(st == OMNIHOST_INVALID_ARGUMENT);
        CHECK_MESSAGE(err.find("FIFO") != std::string::npos, err);
        CHECK_MESSAGE(err.find(fs::path(file).filename().string()) != std::string::npos, err);
    }

    // An absurd dimension in each config is an error naming the key, before any allocation.
    struct absurd { const char *file; const char *key; json value; };
    for (const absurd &a : {absurd{"transformer/config.json", "num_layers", 1000000000},
                            absurd{"transformer/config.json", "ffn_dim", int64_t(1) << 40},
                            absurd{"transformer/config.json", "num_attention_heads", 100000},
                            absurd{"text_encoder/config.json", "vocab_size", int64_t(1) << 40},
                            absurd{"text_encoder/config.json", "d_model", 10000000},
                            absurd{"vae/config.json", "base_dim", 1000000}}) {
        INFO(a.file << " " << a.key);
        fresh_copy();
        json cfg = json::parse(std::ifstream(model / a.file));
        cfg[a.key] = a.value;
        std::ofstream(model / a.file, std::ios::trunc) << cfg.dump();
        bool hung = false;
        const auto [st, err] = start_error(model / a.file, hung);
        CHECK(st == OMNIHOST_INVALID_ARGUMENT);
        CHECK_MESSAGE(err.find(std::string("'") + a.key + "'") != std::string::npos, err);
    }
    fs::remove_all(model);

    // Still serves.
    test_job good;
    CHECK_MESSAGE(vd.start(demo_start(), good) == OMNIHOST_OK, vd.error());
}
}
