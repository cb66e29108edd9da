// What crosses the ABI as JSON for stable_audio: start settings (recipe spellings, dtype names,
// devices) and audio requests (the playground's fields, durations against the model's limit, bad
// values named by field). No model is loaded.
#include "model_roots.h"
#include "plugin_error.h"
#include "settings.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <cstdlib>

#include <unistd.h>

using namespace omnihost::stable_audio;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The message of the plugin_error `fn` throws ("" when it throws none), and its status.
template <typename Fn>
std::string error_of(Fn fn, omnihost_status *status = nullptr) {
    try {
        fn();
    } catch (const plugin_error &e) {
        if (status) *status = e.status();
        return e.what();
    }
    return "";
}

bool starts_with(const std::string &s, const std::string &p) { return s.rfind(p, 0) == 0; }

const model_limits kSao{47.5547};   // Stable Audio Open 1.0: 1024 x 2048 / 44100
const model_limits kDemo{11.8886};  // the demo model: 256 x 2048 / 44100

audio_request parse(const json &j, const model_limits &lim = kSao, const generation_defaults &d = {}) {
    return parse_audio_request(j.dump(), d, lim);
}

}  // namespace

TEST_SUITE("settings") {
TEST_CASE("the plugin's fallbacks for a missing value are its manifest's defaults") {
    // The host hands the plugin requests and start settings already defaulted from the manifest;
    // the plugin's own values only cover a caller that leaves one out, and must not disagree.
    std::ifstream in(SA_MANIFEST);
    REQUIRE(in);
    const nlohmann::json params = nlohmann::json::parse(in)["parameters"];
    const nlohmann::json &audio = params["audio"];
    const nlohmann::json &start = params["start"];
    const audio_request r = parse_audio_request(R"({"text":"x"})", generation_defaults{}, model_limits{47.55});
    CHECK(r.audio_duration == audio["audio_duration"]["default"].get<double>());
    CHECK(r.audio_start_in_s == audio["audio_start_in_s"]["default"].get<double>());
    CHECK(r.num_inference_steps == audio["num_inference_steps"]["default"].get<int64_t>());
    CHECK(r.guidance_scale == audio["guidance_scale"]["default"].get<double>());
    CHECK(r.num_waveforms_per_prompt == audio["num_waveforms_per_prompt"]["default"].get<int64_t>());
    CHECK(r.output_format == audio["output_format"]["default"].get<std::string>());
    CHECK(r.peak_mode == audio["peak_mode"]["default"].get<std::string>());
    CHECK_FALSE(audio["negative_prompt"].contains("default"));
    CHECK_FALSE(r.negative_prompt.has_value());
    const start_settings s = parse_start_settings(R"({"model":"m"})");
    CHECK(s.enable_cpu_offload == start["enable_cpu_offload"]["default"].get<bool>());
    CHECK(s.enforce_eager == start["enforce_eager"]["default"].get<bool>());
    // Declared (the host refuses start settings a plugin does not declare) as the boolean it reads.
    CHECK(start["enforce_eager"]["type"] == "boolean");
    CHECK(s.device == start["device"]["default"].get<std::string>());
    CHECK(s.dtype == start["dtype"]["default"].get<std::string>());
    CHECK(s.threads == start["threads"]["default"].get<int>());
}


TEST_CASE("start settings: recipe spellings, dtype aliases, devices, defaults") {
    const start_settings s = parse_start_settings(json({{"model", "models/x"}, {"model_type", "audio"}, {"recipe", "r1"},
                                                        {"dtype", "float32"}, {"device", "cpu"}, {"threads", 2},
                                                        {"enable_cpu_offload", true}, {"enforce_eager", false},
                                                        {"defaults", {{"duration", 5.0}, {"steps", 8}, {"guidance", 3.5},
                                                                      {"negative_prompt", "low quality"}}}})
                                                      .dump());
    CHECK(s.model == "models/x");
    CHECK(s.recipe == "r1");
    CHECK(s.dtype == "fp32");
    CHECK(s.device == "cpu");
    CHECK(s.threads == 2);
    CHECK(s.enable_cpu_offload);
    CHECK_FALSE(s.enforce_eager);
    REQUIRE(s.defaults.audio_duration);
    CHECK(*s.defaults.audio_duration == 5.0);
    CHECK(s.defaults.num_inference_steps == 8);
    CHECK(s.defaults.guidance_scale == 3.5);
    CHECK(s.defaults.negative_prompt == std::optional<std::string>("low quality"));
    CHECK(parse_start_settings(R"({"model":"m","dtype":"bfloat16"})").dtype == "bf16");
    CHECK(parse_start_settings(R"({"model":"m","dtype":"bf16","device":"cuda:1"})").device == "cuda:1");

    // Absent fields: diffusers' defaults; null means "not given".
    const start_settings plain = parse_start_settings(R"({"model":"m","negative_prompt":null,"steps":null})");
    CHECK(plain.device == "auto");
    CHECK(plain.dtype == "fp32");
    CHECK_FALSE(plain.enable_cpu_offload);
    CHECK(plain.defaults.num_inference_steps == 50);
    CHECK(plain.defaults.guidance_scale == 7.0);
    CHECK_FALSE(plain.defaults.negative_prompt);
    CHECK_FALSE(plain.defaults.audio_duration);
}

TEST_CASE("start settings: every bad field is named") {
    omnihost_status st = OMNIHOST_OK;
    CHECK(starts_with(error_of([] { parse_start_settings("{}"); }, &st), "model: is required"));
    CHECK(st == OMNIHOST_INVALID_ARGUMENT);
    CHECK(starts_with(error_of([] { parse_start_settings(R"({"model":"m","model_type":"video"})"); }), "model_type:"));
    CHECK(starts_with(error_of([] { parse_start_settings(R"({"model":"m","dtype":"float16"})"); }), "dtype: float16 is not supported"));
    CHECK(starts_with(error_of([] { parse_start_settings(R"({"model":"m","dtype":"int8"})"); }), "dtype:"));
    CHECK(starts_with(error_of([] { parse_start_settings(R"({"model":"m","device":"tpu"})"); }), "device:"));
    CHECK(starts_with(error_of([] { parse_start_settings(R"({"model":"m","threads":-1})"); }), "threads:"));
    CHECK(starts_with(error_of([] { parse_start_settings(R"({"model":"m","enable_cpu_offload":"yes"})"); }), "enable_cpu_offload:"));
    CHECK(starts_with(error_of([] { parse_start_settings(R"({"model":"m","steps":0})"); }), "steps:"));
    CHECK(starts_with(error_of([] { parse_start_settings(R"({"model":"m","gpu_memory_utilization":1.5})"); }), "gpu_memory_utilization:"));
    CHECK(parse_start_settings(R"({"model":"m","gpu_memory_utilization":0.7})").gpu_memory_utilization == 0.7);
    CHECK(starts_with(error_of([] { parse_start_settings(R"({"model":"m","duration":-2})"); }), "duration:"));
    CHECK(starts_with(error_of([] { parse_start_settings("[1,2]"); }), "start: must be a JSON object"));
    CHECK(starts_with(error_of([] { parse_start_settings("{not json"); }), "start: not valid JSON"));
    // A deeply nested body is refused while parsing, not by overflowing the stack.
    CHECK(starts_with(error_of([] { parse_start_settings(std::string(100000, '[')); }), "start:"));
}

TEST_CASE("model resolution: only inside the model roots; not found lists the places; labels never show paths") {
    const fs::path root = fs::temp_directory_path() / ("sa_settings_" + std::to_string(::getpid()));
    const fs::path data = root / "data", extra = root / "extra", outside = root / "outside";
    fs::create_directories(data / "models" / "tiny");
    fs::create_directories(extra / "more");
    fs::create_directories(outside / "secret");
    const fs::path data_c = fs::canonical(data);

    const resolved_model under = resolve_model("models/tiny", data, {});
    CHECK(under.dir == data_c / "models" / "tiny");
    CHECK(under.label == "models/tiny");
    const resolved_model abs = resolve_model((data / "models" / "tiny").string(), data, {});
    CHECK(abs.dir == data_c / "models" / "tiny");
    CHECK(abs.label == "models/tiny");  // relative to its root, never the absolute path
    CHECK(resolve_model("more", data, {extra}).label == "more");
    CHECK(resolve_model((extra / "more").string(), data, {extra}).dir == fs::canonical(extra / "more"));

    const std::string missing = error_of([&] { resolve_model("models/absent", data, {}); });
    CHECK(starts_with(missing, "model: model 'models/absent' was not found; looked in:"));
    CHECK(missing.find("(under data_dir)") != std::string::npos);

    // Outside the roots: one fixed message, the same whether or not the folder exists.
    const std::string exists = error_of([&] { resolve_model((outside / "secret").string(), data, {}); });
    const std::string absent = error_of([&] { resolve_model((outside / "nothing").string(), data, {}); });
    CHECK(starts_with(exists, "model: the path is outside the folders models may be loaded from"));
    CHECK(exists == absent);
    CHECK(exists.find(outside.string()) == std::string::npos);
    // '..' and symbolic links cannot leave a root.
    CHECK(error_of([&] { resolve_model("../outside/secret", data, {}); }) == exists);
    fs::create_directory_symlink(outside / "secret", data / "models" / "link");
    CHECK(error_of([&] { resolve_model("models/link", data, {}); }) == exists);
    // The current directory is no root.
    CHECK(starts_with(error_of([&] { resolve_model("models/tiny", "", {}); }), "model:"));
    CHECK(starts_with(error_of([&] { resolve_model("", data, {}); }), "model: is required"));

    // Roots from the create config and from $OMNIHOST_MODEL_ROOTS.
    const create_config c = parse_create_config(json({{"data_dir", data.string()}, {"model_roots", json::array({extra.string()})}}).dump());
    REQUIRE(c.model_roots.size() >= 1);
    CHECK(c.model_roots[0] == extra);
    CHECK(starts_with(error_of([] { parse_create_config(R"({"model_roots":[1]})"); }), "model_roots:"));
    ::setenv("OMNIHOST_MODEL_ROOTS", (outside.string() + ":" + extra.string()).c_str(), 1);
    const create_config e = parse_create_config("{}");
    ::unsetenv("OMNIHOST_MODEL_ROOTS");
    REQUIRE(e.model_roots.size() == 2);
    CHECK(e.model_roots[0] == outside);
    CHECK(resolve_model((outside / "secret").string(), "", e.model_roots).label == "secret");
    fs::remove_all(root);
}

TEST_CASE("audio request: the playground's fields, defaults and the end = start + duration rule") {
    const audio_request r = parse({{"task", "audio"}, {"text", "rain on a tin roof"}, {"audio_duration", 4.5},
                                   {"num_inference_steps", 20}, {"guidance_scale", 6.0},
                                   {"negative_prompt", "low quality"}, {"seed", 42}, {"audio_start_in_s", 1.5},
                                   {"num_waveforms_per_prompt", 2}, {"output_format", "flac"}, {"peak_mode", "limit"}});
    CHECK(r.prompt == "rain on a tin roof");
    CHECK(r.audio_duration == 4.5);
    CHECK(r.audio_start_in_s == 1.5);
    CHECK(r.audio_end_in_s() == 6.0);
    CHECK(r.num_inference_steps == 20);
    CHECK(r.guidance_scale == 6.0);
    CHECK(r.negative_prompt == std::optional<std::string>("low quality"));
    CHECK(r.seed == 42);
    CHECK_FALSE(r.seed_was_random);
    CHECK(r.num_waveforms_per_prompt == 2);
    CHECK(r.output_format == "flac");
    CHECK(r.peak_mode == "limit");

    // "prompt" (diffusers' name) works too; defaults from the recipe, then diffusers'.
    generation_defaults d;
    d.audio_duration = 3.0;
    d.num_inference_steps = 8;
    d.negative_prompt = "recipe negative";
    const audio_request p = parse({{"prompt", "birdsong"}, {"negative_prompt", nullptr}, {"seed", nullptr}}, kSao, d);
    CHECK(p.prompt == "birdsong");
    CHECK(p.audio_duration == 3.0);
    CHECK(p.num_inference_steps == 8);
    CHECK(p.guidance_scale == 7.0);
    CHECK(p.negative_prompt == std::optional<std::string>("recipe negative"));
    CHECK(p.seed_was_random);
    CHECK(p.seed < (uint64_t(1) << 53));
    CHECK(p.output_format == "wav");
    CHECK(p.peak_mode == "normalize");
    // No negative prompt anywhere: diffusers' all-zero unconditional row.
    CHECK_FALSE(parse({{"text", "x"}}).negative_prompt);
    // The playground's 10 s default, capped at a smaller model's limit.
    CHECK(parse({{"text", "x"}}).audio_duration == 10.0);
    CHECK(parse({{"text", "x"}}, model_limits{4.0}).audio_duration == doctest::Approx(4.0));
    // audio_end_in_s (diffusers' name) instead of a duration.
    const audio_request e = parse({{"text", "x"}, {"audio_start_in_s", 2.0}, {"audio_end_in_s", 5.0}});
    CHECK(e.audio_duration == 3.0);
    // Integers sent as 20.0 by JavaScript are fine.
    CHECK(parse({{"text", "x"}, {"num_inference_steps", 20.0}}).num_inference_steps == 20);
    // Exactly the model's limit is allowed.
    CHECK(parse({{"text", "x"}, {"audio_duration", 11.8886}}, kDemo).audio_duration == 11.8886);
}

TEST_CASE("audio request: bad input is refused naming the field") {
    auto err = [](const json &j, const model_limits &lim = kSao) { return error_of([&] { parse(j, lim); }); };
    CHECK(starts_with(err({{"audio_duration", 5}}), "text: is required"));
    CHECK(starts_with(err({{"text", 5}}), "text: must be a string"));
    CHECK(starts_with(err({{"text", "a"}, {"prompt", "b"}}), "prompt: give the prompt once"));
    CHECK(err({{"text", "a"}, {"prompt", "a"}}).empty());
    // Durations: beyond the model's limit, zero, negative; a start that leaves nothing.
    const std::string over = err({{"text", "x"}, {"audio_duration", 20.0}}, kDemo);
    CHECK(starts_with(over, "audio_duration: audio would end at 20 s, past this model's limit of 11.89 s"));
    CHECK(starts_with(err({{"text", "x"}, {"audio_duration", 48.0}}), "audio_duration: audio would end at 48 s"));
    CHECK(starts_with(err({{"text", "x"}, {"audio_duration", 10.0}, {"audio_start_in_s", 40.0}}), "audio_duration:"));
    CHECK(starts_with(err({{"text", "x"}, {"audio_duration", 0}}), "audio_duration: must be > 0"));
    CHECK(starts_with(err({{"text", "x"}, {"audio_duration", -3}}), "audio_duration: must be > 0"));
    CHECK(starts_with(err({{"text", "x"}, {"audio_start_in_s", -1}}), "audio_start_in_s: must be >= 0"));
    CHECK(starts_with(err({{"text", "x"}, {"audio_start_in_s", 12.0}}, kDemo), "audio_start_in_s: leaves no audio"));
    CHECK(starts_with(err({{"text", "x"}, {"audio_start_in_s", 3.0}, {"audio_end_in_s", 2.0}}), "audio_end_in_s: must be after"));
    CHECK(starts_with(err({{"text", "x"}, {"audio_duration", 2.0}, {"audio_end_in_s", 2.0}}), "audio_end_in_s: give either"));
    // Steps, guidance, counts, formats, seeds.
    CHECK(starts_with(err({{"text", "x"}, {"num_inference_steps", 0}}), "num_inference_steps: must be > 0"));
    CHECK(starts_with(err({{"text", "x"}, {"num_inference_steps", -5}}), "num_inference_steps: must be > 0"));
    CHECK(starts_with(err({{"text", "x"}, {"num_inference_steps", 2.5}}), "num_inference_steps: must be an integer"));
    CHECK(starts_with(err({{"text", "x"}, {"num_inference_steps", 1001}}), "num_inference_steps: must be <="));
    CHECK(starts_with(err({{"text", "x"}, {"guidance_scale", -1}}), "guidance_scale:"));
    CHECK(starts_with(err({{"text", "x"}, {"num_waveforms_per_prompt", 0}}), "num_waveforms_per_prompt:"));
    CHECK(starts_with(err({{"text", "x"}, {"num_waveforms_per_prompt", 9}}), "num_waveforms_per_prompt:"));
    CHECK(starts_with(err({{"text", "x"}, {"output_format", "mp3"}}), "output_format: 'mp3' is not one of"));
    CHECK(starts_with(err({{"text", "x"}, {"peak_mode", "clip"}}), "peak_mode: 'clip' is not one of"));
    CHECK(starts_with(err({{"text", "x"}, {"seed", -1}}), "seed: must be >= 0"));
    CHECK(starts_with(err({{"text", "x"}, {"seed", "7"}}), "seed: must be an integer"));
    omnihost_status st = OMNIHOST_OK;
    CHECK(starts_with(error_of([] { parse({{"task", "video"}, {"text", "x"}}); }, &st), "task:"));
    CHECK(st == OMNIHOST_NOT_SUPPORTED);
}

}
