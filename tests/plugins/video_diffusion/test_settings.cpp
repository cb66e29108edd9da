// Request / start-settings validation of the video_diffusion plugin (no model needed).
#include "plugin_error.h"
#include "settings.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <cmath>
#include <cstdlib>

#include <unistd.h>

using namespace omnihost::video_diffusion;
namespace fs = std::filesystem;

namespace {

// The INVALID_ARGUMENT message for a request, or "" when it was accepted.
std::string request_error(const std::string &json, const limits &lim = {}, int64_t multiple = 16,
                          bool two_experts = false) {
    try {
        parse_video_request(json, generation_defaults{}, lim, multiple, two_experts);
    } catch (const plugin_error &e) {
        CHECK(e.status() == OMNIHOST_INVALID_ARGUMENT);
        return e.what();
    }
    return "";
}

bool starts_with(const std::string &s, const std::string &p) { return s.rfind(p, 0) == 0; }

std::string json_text(const nlohmann::json &j) { return j.dump(); }

}  // namespace

TEST_SUITE("settings") {
TEST_CASE("the plugin's fallbacks for a missing value are its manifest's defaults") {
    // The host hands the plugin requests and start settings already defaulted from the manifest;
    // the plugin's own values only cover a caller that leaves one out, and must not disagree.
    std::ifstream in(VD_MANIFEST);
    REQUIRE(in);
    const nlohmann::json params = nlohmann::json::parse(in)["parameters"];
    const nlohmann::json &video = params["video"];
    const nlohmann::json &start = params["start"];
    const video_request r = parse_video_request(R"({"prompt":"x"})", generation_defaults{}, limits{}, 16, false);
    CHECK(r.height == video["height"]["default"].get<int64_t>());
    CHECK(r.width == video["width"]["default"].get<int64_t>());
    CHECK(r.fps == video["fps"]["default"].get<int64_t>());
    CHECK(r.num_frames == frames_4k_plus_1(std::llround(video["duration"]["default"].get<double>() * r.fps)));
    CHECK(r.num_inference_steps == video["num_inference_steps"]["default"].get<int64_t>());
    CHECK(r.guidance_scale == video["guidance_scale"]["default"].get<double>());
    CHECK(r.negative_prompt == video["negative_prompt"]["default"].get<std::string>());
    const start_settings s = parse_start_settings(R"({"model":"m"})", limits{});
    CHECK(s.vae_use_slicing == start["vae_use_slicing"]["default"].get<bool>());
    CHECK(s.vae_use_tiling == start["vae_use_tiling"]["default"].get<bool>());
    CHECK(s.enable_cpu_offload == start["enable_cpu_offload"]["default"].get<bool>());
    CHECK(s.sequential_cpu_offload == start["sequential_cpu_offload"]["default"].get<bool>());
    CHECK(s.enforce_eager == start["enforce_eager"]["default"].get<bool>());
    CHECK(s.device == start["device"]["default"].get<std::string>());
    CHECK(s.dtype == start["dtype"]["default"].get<std::string>());
    CHECK(s.threads == start["threads"]["default"].get<int>());
    CHECK(limits{}.max_pixels == start["max_pixels"]["default"].get<int64_t>());
    CHECK(limits{}.max_frames == start["max_frames"]["default"].get<int64_t>());
}

TEST_CASE("a full request is parsed and frames follow the 4k+1 rule") {
    auto r = parse_video_request(
        R"({"task":"video","prompt":"a cat","negative_prompt":"blurry","height":64,"width":96,
            "duration":1,"fps":8,"num_inference_steps":4,"guidance_scale":4.5,"seed":7})",
        {}, {}, 16, false);
    CHECK(r.prompt == "a cat");
    CHECK(r.negative_prompt == "blurry");
    CHECK(r.height == 64);
    CHECK(r.width == 96);
    CHECK(r.num_frames == 9);  // 8 -> 8 // 4 * 4 + 1
    CHECK(r.num_inference_steps == 4);
    CHECK(r.guidance_scale == 4.5);
    CHECK(r.seed == 7);
    CHECK_FALSE(r.seed_was_random);
    CHECK(frames_4k_plus_1(81) == 81);
    CHECK(frames_4k_plus_1(80) == 81);
    CHECK(frames_4k_plus_1(16 * 5) == 81);
    CHECK(frames_4k_plus_1(3) == 1);
    CHECK(frames_4k_plus_1(0) == 1);
}

TEST_CASE("missing fields take the recipe defaults; a missing seed is random and reported") {
    generation_defaults d;
    d.height = 32;
    d.width = 48;
    d.duration = 2;
    d.fps = 4;
    d.num_inference_steps = 3;
    d.negative_prompt = "ugly";
    auto a = parse_video_request(R"({"prompt":"x"})", d, {}, 16, false);
    auto b = parse_video_request(R"({"prompt":"x"})", d, {}, 16, false);
    CHECK(a.height == 32);
    CHECK(a.width == 48);
    CHECK(a.num_frames == 9);
    CHECK(a.num_inference_steps == 3);
    CHECK(a.negative_prompt == "ugly");
    CHECK(a.seed_was_random);
    CHECK(a.seed != b.seed);  // 2^-53 chance of a false failure
    CHECK(a.seed < (uint64_t(1) << 53));
}

TEST_CASE("bad requests name the field") {
    CHECK(starts_with(request_error(R"({"prompt":"x","height":72,"width":64})"), "height: must be a multiple of 16"));
    CHECK(starts_with(request_error(R"({"prompt":"x","height":64,"width":65})"), "width: must be a multiple of 16"));
    CHECK(starts_with(request_error(R"({"prompt":"x","height":48,"width":64})", {}, 32), "height: must be a multiple of 32"));
    CHECK(starts_with(request_error(R"({"prompt":"x","height":0,"width":64})"), "height: must be at least 16"));
    CHECK(starts_with(request_error(R"({"prompt":"x","num_inference_steps":0})"), "num_inference_steps: must be > 0"));
    CHECK(starts_with(request_error(R"({"prompt":"x","num_inference_steps":-3})"), "num_inference_steps: must be > 0"));
    CHECK(starts_with(request_error(R"({"prompt":"x","num_inference_steps":2.5})"), "num_inference_steps: must be an integer"));
    CHECK(starts_with(request_error(R"({"height":64})"), "prompt: is required"));
    CHECK(starts_with(request_error(R"({"prompt":5})"), "prompt: is required"));
    CHECK(starts_with(request_error(R"({"prompt":"x","fps":0})"), "fps:"));
    CHECK(starts_with(request_error(R"({"prompt":"x","duration":-1})"), "duration: must be > 0"));
    CHECK(starts_with(request_error(R"({"prompt":"x","seed":-1})"), "seed: must be >= 0"));
    CHECK(starts_with(request_error(R"({"prompt":"x","seed":"abc"})"), "seed: must be an integer"));
    CHECK(starts_with(request_error(R"({"prompt":"x","guidance_scale":"high"})"), "guidance_scale: must be a number"));
    CHECK(starts_with(request_error(R"({"prompt":"x","guidance_scale_2":3})"), "guidance_scale_2: only applies"));
    CHECK(request_error(R"({"prompt":"x","guidance_scale_2":3})", {}, 16, true).empty());
    CHECK(starts_with(request_error("not json"), "request: not valid JSON"));
    CHECK(starts_with(request_error("[1,2]"), "request: must be a JSON object"));
}

TEST_CASE("sizes and frame counts beyond the configured limits are refused") {
    limits lim;
    lim.max_pixels = 64 * 64;
    lim.max_frames = 17;
    CHECK(request_error(R"({"prompt":"x","height":64,"width":64,"duration":1,"fps":16})", lim).empty());
    CHECK(starts_with(request_error(R"({"prompt":"x","height":64,"width":80})", lim), "width: 80x64 is 5120 pixels, over the limit max_pixels=4096"));
    CHECK(starts_with(request_error(R"({"prompt":"x","height":64,"width":64,"duration":2,"fps":16})", lim), "duration: 33 frames is over the limit max_frames=17"));
    CHECK(starts_with(request_error(R"({"prompt":"x","height":64,"width":64,"num_frames":21})", lim), "num_frames: 21 frames"));
}

TEST_CASE("start settings: flat or under defaults, recipe spellings, limits, bad values named") {
    auto s = parse_start_settings(
        R"({"model":"models/demo","model_type":"video","run_mode":"subprocess","vae_use_tiling":false,
            "defaults":{"height":64,"width":64,"steps":4,"guidance":3.5,"flow_shift":3.0,
                        "vae_use_tiling":true,"max_pixels":9999},
            "threads":2,"dtype":"float32","device":"cpu","enable_cpu_offload":false})",
        limits{});
    CHECK(s.model == "models/demo");
    CHECK_FALSE(s.vae_use_tiling);  // top level wins over defaults
    CHECK(s.vae_use_slicing);
    CHECK(s.flow_shift.value() == 3.0);
    CHECK(s.threads == 2);
    CHECK(s.dtype == "float32");
    CHECK_FALSE(s.enable_cpu_offload);
    CHECK(s.lim.max_pixels == 9999);
    CHECK(s.defaults.num_inference_steps == 4);
    CHECK(s.defaults.guidance_scale == 3.5);
    CHECK(s.defaults.height == 64);

    auto message = [](const std::string &json) -> std::string {
        try {
            parse_start_settings(json, limits{});
        } catch (const plugin_error &e) {
            return e.what();
        }
        return "";
    };
    CHECK(starts_with(message(R"({})"), "model: is required"));
    CHECK(starts_with(message(R"({"model":"m","model_type":"audio"})"), "model_type:"));
    CHECK(starts_with(message(R"({"model":"m","flow_shift":0})"), "flow_shift: must be > 0"));
    CHECK(starts_with(message(R"({"model":"m","vae_use_slicing":"yes"})"), "vae_use_slicing: must be true or false"));
    CHECK(starts_with(message(R"({"model":"m","threads":-1})"), "threads:"));
    CHECK(starts_with(message(R"({"model":"m","max_frames":0})"), "max_frames:"));
}

TEST_CASE("model resolution: absolute, under data_dir, and a clear list of places when absent") {
    const fs::path root = fs::weakly_canonical(fs::temp_directory_path()) / ("vd_resolve_" + std::to_string(::getpid()));
    fs::create_directories(root / "data" / "models" / "m1");
    const create_config cfg = parse_create_config(json_text({{"data_dir", (root / "data").string()}}));
    CHECK(resolve_model((root / "data/models/m1").string(), cfg).dir == root / "data/models/m1");
    const resolved_model rel = resolve_model("models/m1", cfg);
    CHECK(rel.dir == root / "data/models/m1");
    CHECK(rel.label == "models/m1");
    std::string msg;
    try {
        resolve_model("models/absent", cfg);
    } catch (const plugin_error &e) {
        CHECK(e.status() == OMNIHOST_INVALID_ARGUMENT);
        msg = e.what();
    }
    CHECK(starts_with(msg, "model: model 'models/absent' was not found; looked in:"));
    CHECK(msg.find((root / "data/models/absent").string()) != std::string::npos);

    // A hub id found in the standard cache layout (HF_HUB_CACHE/models--org--name/snapshots/<rev>).
    const fs::path cache = root / "hf";
    const fs::path snapshot = cache / "models--Wan-AI--Tiny-Diffusers" / "snapshots" / "abc123";
    fs::create_directories(snapshot);
    fs::create_directories(cache / "models--Wan-AI--Tiny-Diffusers" / "refs");
    std::ofstream(cache / "models--Wan-AI--Tiny-Diffusers" / "refs" / "main") << "abc123";
    ::setenv("HF_HUB_CACHE", cache.c_str(), 1);
    const resolved_model hub = resolve_model("Wan-AI/Tiny-Diffusers", cfg);
    CHECK(fs::equivalent(hub.dir, snapshot));
    CHECK(hub.label == "Wan-AI/Tiny-Diffusers");
    // The snapshot folder given by its absolute path is inside the cache root; outputs name the repo.
    const resolved_model by_path = resolve_model(snapshot.string(), cfg);
    CHECK(by_path.dir == snapshot);
    CHECK(by_path.label == "Wan-AI/Tiny-Diffusers");
    try {
        resolve_model("Org/Absent", cfg);
    } catch (const plugin_error &e) {
        msg = e.what();
    }
    CHECK(msg.find("Hugging Face cache") != std::string::npos);
    ::unsetenv("HF_HUB_CACHE");
    fs::remove_all(root);
}

TEST_CASE("model resolution stays inside the operator's model roots") {
    const fs::path root = fs::weakly_canonical(fs::temp_directory_path()) / ("vd_roots_" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "data" / "models" / "m1");
    fs::create_directories(root / "extra" / "wan" / "m2");
    fs::create_directories(root / "envroot" / "m3");
    fs::create_directories(root / "outside" / "secret");
    // A link inside data_dir to a folder outside the roots, and one to a folder inside another root.
    fs::create_directory_symlink(root / "outside" / "secret", root / "data" / "models" / "escape");
    fs::create_directory_symlink(root / "extra" / "wan" / "m2", root / "data" / "models" / "to_extra");
    ::setenv("OMNIHOST_MODEL_ROOTS", ("/nonexistent-root:" + (root / "envroot").string()).c_str(), 1);
    const create_config cfg = parse_create_config(
        json_text({{"data_dir", (root / "data").string()}, {"model_roots", {(root / "extra").string()}}}));
    ::unsetenv("OMNIHOST_MODEL_ROOTS");
    REQUIRE(cfg.model_roots.size() == 3);
    CHECK(cfg.model_roots[0] == root / "extra");
    CHECK(cfg.model_roots[2] == root / "envroot");

    auto outside_error = [&](const std::string &model) -> std::string {
        try {
            resolve_model(model, cfg);
        } catch (const model_outside_roots &e) {
            CHECK(e.status() == OMNIHOST_INVALID_ARGUMENT);
            return e.what();
        } catch (const plugin_error &e) {
            return std::string("<not an outside-roots refusal> ") + e.what();
        }
        return "<accepted>";
    };
    // Inside: every kind of root, by absolute path or relative to data_dir / an extra root.
    CHECK(resolve_model((root / "data/models/m1").string(), cfg).label == "models/m1");
    CHECK(resolve_model("models/m1", cfg).dir == root / "data/models/m1");
    const resolved_model m2 = resolve_model((root / "extra/wan/m2").string(), cfg);
    CHECK(m2.dir == root / "extra/wan/m2");
    CHECK(m2.label == "wan/m2");
    CHECK(resolve_model("wan/m2", cfg).dir == root / "extra/wan/m2");  // relative to the extra root
    CHECK(resolve_model((root / "envroot/m3").string(), cfg).label == "m3");
    // '..' that stays inside, and a link whose target is inside another root, are fine.
    CHECK(resolve_model((root / "data/models/../models/m1").string(), cfg).dir == root / "data/models/m1");
    const resolved_model linked = resolve_model("models/to_extra", cfg);
    CHECK(linked.dir == root / "extra/wan/m2");
    CHECK(linked.label == "models/to_extra");

    // Outside: an existing folder, a missing one, through '..' (absolute and relative) and through a link.
    const std::string existing = outside_error((root / "outside/secret").string());
    const std::string missing = outside_error((root / "outside/no-such-folder").string());
    CHECK(starts_with(existing, "model: "));
    CHECK(existing.find("outside the folders models may be loaded from") != std::string::npos);
    // The same answer whether the path exists or not: a request cannot probe the file system.
    CHECK(existing == missing);
    CHECK(existing.find(root.string()) == std::string::npos);
    CHECK(outside_error("/etc") == existing);
    CHECK(outside_error((root / "data/models/../../outside/secret").string()) == existing);
    CHECK(outside_error("models/../../outside/secret") == existing);
    CHECK(outside_error("../outside/secret") == existing);
    CHECK(outside_error("models/escape") == existing);
    CHECK(outside_error((root / "data/models/escape").string()) == existing);

    // No roots configured but data_dir: the current directory is not a root.
    const fs::path cwd = fs::current_path();
    fs::current_path(root / "outside");
    CHECK(outside_error("secret") != "<accepted>");
    fs::current_path(cwd);
    fs::remove_all(root);
}

TEST_CASE("the create config's model_roots: a list or a colon-separated string; anything else is named") {
    ::unsetenv("OMNIHOST_MODEL_ROOTS");
    CHECK(parse_create_config(R"({"model_roots": "/a:/b/../c:"})").model_roots ==
          std::vector<fs::path>{"/a", "/c"});
    CHECK(parse_create_config(R"({"model_roots": ["/x", "/y/"]})").model_roots.size() == 2);
    for (const char *bad : {R"({"model_roots": 5})", R"({"model_roots": [""]})", R"({"model_roots": [1]})"}) {
        try {
            parse_create_config(bad);
            FAIL("accepted " << bad);
        } catch (const plugin_error &e) {
            CHECK(starts_with(e.what(), "model_roots:"));
        }
    }
}

TEST_CASE("start settings: the model string is bounded and the recipe id is kept") {
    const auto s = parse_start_settings(R"({"model": "models/m", "recipe": "demo-wan-tiny"})", {});
    CHECK(s.recipe == "demo-wan-tiny");
    for (const std::string &bad : {std::string(R"({"model": "a\u0000b"})"), std::string(R"({"model": "x\ny"})"),
                                  R"({"model": ")" + std::string(5000, 'a') + R"("})"}) {
        try {
            parse_start_settings(bad, {});
            FAIL("accepted");
        } catch (const plugin_error &e) {
            CHECK(starts_with(e.what(), "model:"));
        }
    }
}
}
