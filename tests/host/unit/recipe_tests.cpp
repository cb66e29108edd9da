// Recipe validation: every error names the file and the field; the shipped recipes all load.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "api/recipe_manifest_check.h"
#include "plugin_loader/manifest.h"
#include "recipes/recipe_catalog.h"

using namespace omnihost;
namespace fs = std::filesystem;

namespace {

nlohmann::json good_video() {
    return nlohmann::json::parse(R"({
      "id": "v1", "name": "Video one", "model": "Wan-AI/Wan2.2-TI2V-5B-Diffusers", "model_type": "video",
      "defaults": {"height": 320, "width": 512, "duration": 2, "fps": 16, "steps": 20, "guidance": 4.0,
                   "flow_shift": 5.0, "vae_use_slicing": true, "vae_use_tiling": true,
                   "enable_cpu_offload": false, "enforce_eager": true},
      "hints": {"requires_hf_token": false, "container_limitation": "in-process only"}})");
}

// The shipped manifest of a plugin in this source tree.
plugin_loader::plugin_manifest shipped_manifest(const std::string &id) {
    return plugin_loader::parse_manifest_file(fs::path(OMNIHOST_RECIPE_DIR) / ".." / "plugins" / id / (id + ".plugin.json"));
}

// Parses `doc` as file "v1.json"; returns the problem message ("" when valid).
std::string problem_of(const nlohmann::json &doc, std::string *field = nullptr) {
    recipe_problem problem;
    auto recipe = parse_recipe(doc, "v1.json", problem);
    if (field) *field = problem.field;
    return recipe ? "" : problem.message;
}

} // namespace

TEST_SUITE("recipes") {

TEST_CASE("a complete video recipe is valid and keeps its defaults") {
    recipe_problem problem;
    auto recipe = parse_recipe(good_video(), "v1.json", problem);
    REQUIRE(recipe);
    CHECK(recipe->run_mode == "subprocess");
    CHECK(recipe->defaults["flow_shift"] == 5.0);
    CHECK(recipe->to_json()["hints"]["requires_hf_token"] == false);
}

TEST_CASE("each kind of mistake names the file and the field") {
    struct case_row {
        const char *what;
        std::function<void(nlohmann::json &)> mutate;
        const char *field;
        const char *text;
    };
    const std::vector<case_row> cases = {
        {"missing id", [](auto &d) { d.erase("id"); }, "id", "is required"},
        {"id not the file name", [](auto &d) { d["id"] = "other"; }, "id", "does not match the file name"},
        {"bad id characters", [](auto &d) { d["id"] = "Bad Id"; }, "id", "must match"},
        {"missing model", [](auto &d) { d.erase("model"); }, "model", "is required"},
        {"empty name", [](auto &d) { d["name"] = "  "; }, "name", "must not be empty"},
        {"unknown model_type", [](auto &d) { d["model_type"] = "music"; }, "model_type", "is not one of"},
        {"unknown run_mode", [](auto &d) { d["run_mode"] = "docker"; }, "run_mode", "is not one of"},
        {"unknown top-level key", [](auto &d) { d["modle"] = "x"; }, "modle", "unknown field"},
        {"defaults not an object", [](auto &d) { d["defaults"] = 3; }, "defaults", "must be an object"},
        {"a size the model cannot run", [](auto &d) { d["hints"]["size_multiple"] = 32; d["defaults"]["width"] = 848; },
         "defaults.width", "must be a multiple of 32 for this model"},
        {"size_multiple not an integer", [](auto &d) { d["hints"]["size_multiple"] = "32"; }, "hints.size_multiple", "must be an integer"},
        {"a default that is an object", [](auto &d) { d["defaults"]["height"] = nlohmann::json::object(); }, "defaults.height",
         "must be a parameter name"},
        {"hint of the wrong type", [](auto &d) { d["hints"]["requires_hf_token"] = "yes"; }, "hints.requires_hf_token", "must be a boolean"},
        {"unknown hint", [](auto &d) { d["hints"]["colour"] = "red"; }, "hints.colour", "unknown field"},
        {"data_dir model escaping", [](auto &d) { d["model_root"] = "data_dir"; d["model"] = "../etc"; }, "model", "relative path"},
        {"unknown model_root", [](auto &d) { d["model_root"] = "home"; }, "model_root", "is not one of"},
    };
    for (const auto &c : cases) {
        CAPTURE(c.what);
        nlohmann::json doc = good_video();
        c.mutate(doc);
        std::string field;
        const std::string message = problem_of(doc, &field);
        CHECK(field == c.field);
        CHECK(message.rfind("v1.json: ", 0) == 0);
        CHECK(message.find(c.text) != std::string::npos);
    }
}

TEST_CASE("defaults are judged by the serving plugin's manifest, under its names, naming the recipe's key") {
    const plugin_loader::plugin_manifest video = shipped_manifest("video_diffusion");
    struct case_row {
        const char *what;
        std::function<void(nlohmann::json &)> mutate;
        const char *field;
        const char *text;
    };
    const std::vector<case_row> cases = {
        {"height as a string", [](auto &d) { d["defaults"]["height"] = "320"; }, "defaults.height", "must be an integer"},
        {"height out of range", [](auto &d) { d["defaults"]["height"] = 99999; }, "defaults.height", "between 16 and 2048"},
        {"height off the latent grid", [](auto &d) { d["defaults"]["height"] = 330; }, "defaults.height", "multiple of 16"},
        {"fractional steps (alias of num_inference_steps)", [](auto &d) { d["defaults"]["steps"] = 2.5; }, "defaults.steps", "must be an integer"},
        {"negative guidance (alias of guidance_scale)", [](auto &d) { d["defaults"]["guidance"] = -1; }, "defaults.guidance", "between 0 and 50"},
        {"typo in defaults", [](auto &d) { d["defaults"]["stpes"] = 4; }, "defaults.stpes", "is not a parameter of plugin video_diffusion"},
        {"audio key in a video recipe", [](auto &d) { d["defaults"]["voice"] = "Vivian"; }, "defaults.voice", "is not a parameter"},
        {"a vLLM setting the in-process plugin has not", [](auto &d) { d["defaults"]["gpu_memory_utilization"] = 0.5; },
         "defaults.gpu_memory_utilization", "is not a parameter"},
        {"vae flag not boolean (start setting)", [](auto &d) { d["defaults"]["vae_use_tiling"] = 1; }, "defaults.vae_use_tiling", "must be a boolean"},
        {"flow shift out of range (start setting)", [](auto &d) { d["defaults"]["flow_shift"] = 0; }, "defaults.flow_shift", "between 0.01 and 100"},
        {"device of an unknown form (format device)", [](auto &d) { d["defaults"]["device"] = "gpu0"; }, "defaults.device", "cpu, cuda, cuda:N or auto"},
        {"dtype not in the enum", [](auto &d) { d["defaults"]["dtype"] = "int8"; }, "defaults.dtype", "is not one of"},
    };
    for (const auto &c : cases) {
        CAPTURE(c.what);
        nlohmann::json doc = good_video();
        c.mutate(doc);
        recipe_problem problem;
        auto recipe = parse_recipe(doc, "v1.json", problem);
        REQUIRE_MESSAGE(recipe, problem.message);
        auto error = check_recipe_defaults(*recipe, video);
        REQUIRE(error);
        CHECK(error->field == c.field);
        CHECK(error->message.rfind(std::string(c.field) + ": ", 0) == 0);
        CHECK(error->message.find(c.text) != std::string::npos);
    }
    recipe_problem problem;
    auto good = parse_recipe(good_video(), "v1.json", problem);
    REQUIRE(good);
    CHECK_FALSE(check_recipe_defaults(*good, video));
}

TEST_CASE("a catalogue refuses a recipe its check refuses, naming file, recipe and field") {
    const fs::path dir = fs::temp_directory_path() / ("omnihost-recipes-check-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    nlohmann::json bad = good_video();
    bad["id"] = "bad";
    bad["defaults"]["steps"] = 5000;
    std::ofstream(dir / "bad.json") << bad.dump();
    nlohmann::json ok = good_video();
    ok["id"] = "ok";
    std::ofstream(dir / "ok.json") << ok.dump();
    const plugin_loader::plugin_manifest video = shipped_manifest("video_diffusion");
    recipe_catalog catalog;
    catalog.load(dir.string(), "bad");
    REQUIRE(catalog.recipes().size() == 2);
    catalog.check_each([&](const recipe_entry &recipe) {
        auto error = check_recipe_defaults(recipe, video);
        return error ? error->message : std::string();
    });
    REQUIRE(catalog.recipes().size() == 1);
    CHECK(catalog.recipes()[0].id == "ok");
    REQUIRE(catalog.problems().size() == 2); // the recipe, and the default recipe it was
    CHECK(catalog.problems()[0].file == "bad.json");
    CHECK(catalog.problems()[0].field == "defaults.steps");
    CHECK(catalog.problems()[0].message == "bad.json: recipe 'bad': defaults.steps: must be between 1 and 1000 (got 5000)");
    CHECK(catalog.problems()[1].field == "default_recipe");
    fs::remove_all(dir);
}

TEST_CASE("every shipped recipe agrees with the shipped manifest that serves it") {
    recipe_catalog catalog;
    catalog.load(OMNIHOST_RECIPE_DIR, "demo-wan-tiny");
    std::vector<plugin_loader::plugin_manifest> manifests;
    for (const char *id : {"video_diffusion", "stable_audio", "subprocess_proxy", "container_proxy", "remote_proxy"})
        manifests.push_back(shipped_manifest(id));
    for (const auto &recipe : catalog.recipes()) {
        CAPTURE(recipe.id);
        const plugin_loader::plugin_manifest *serving = nullptr;
        for (const auto &m : manifests)
            if (m.serves(recipe.model_type, recipe.run_mode)) serving = &m;
        REQUIRE(serving);
        auto error = check_recipe_defaults(recipe, *serving);
        CHECK_MESSAGE(!error, (error ? error->message : ""));
    }
}

TEST_CASE("the document must be an object") {
    std::string field;
    CHECK(problem_of(nlohmann::json::array(), &field).find("must be a JSON object") != std::string::npos);
}

TEST_CASE("a catalogue skips and reports bad files, keeps good ones, default first") {
    const fs::path dir = fs::temp_directory_path() / ("omnihost-recipes-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto write = [&](const std::string &name, const std::string &text) { std::ofstream(dir / name) << text; };
    nlohmann::json a = good_video();
    a["id"] = "aaa";
    write("aaa.json", a.dump());
    nlohmann::json z = good_video();
    z["id"] = "zzz";
    write("zzz.json", z.dump());
    write("broken.json", "{ not json");
    nlohmann::json bad = good_video();
    bad["id"] = "bad";
    bad["defaults"] = 3;
    write("bad.json", bad.dump());
    write("notes.txt", "ignored");

    recipe_catalog catalog;
    catalog.load(dir.string(), "zzz");
    REQUIRE(catalog.recipes().size() == 2);
    CHECK(catalog.recipes()[0].id == "zzz");
    CHECK(catalog.recipes()[1].id == "aaa");
    REQUIRE(catalog.problems().size() == 2);
    const auto listed = catalog.to_json();
    CHECK(listed["recipes"][0]["default"] == true);
    CHECK(listed["invalid"].size() == 2);
    bool saw_fps = false, saw_json = false;
    for (const auto &p : catalog.problems()) {
        saw_fps = saw_fps || (p.file == "bad.json" && p.field == "defaults");
        saw_json = saw_json || (p.file == "broken.json" && p.message.find("invalid JSON") != std::string::npos);
    }
    CHECK(saw_fps);
    CHECK(saw_json);

    recipe_catalog missing_default;
    missing_default.load(dir.string(), "nope");
    CHECK(missing_default.problems().size() == 3);
    fs::remove_all(dir);
}

TEST_CASE("every shipped recipe is valid: the playground's 17, four image-to-video and the four demos, video demo first") {
    recipe_catalog catalog;
    catalog.load(OMNIHOST_RECIPE_DIR, "demo-wan-tiny");
    for (const auto &p : catalog.problems()) FAIL_CHECK(p.message);
    CHECK(catalog.problems().empty());
    REQUIRE(catalog.recipes().size() == 25);
    CHECK(catalog.recipes()[0].id == "demo-wan-tiny");
    CHECK(catalog.recipes()[0].model_root == "data_dir");
    for (const char *id : {"small-gpu-turbo", "small-gpu-quality", "medium-gpu-balanced", "medium-gpu-hq",
                           "large-gpu-fast", "large-gpu-production", "cpu-offload", "video-small-fast",
                           "video-l4-optimized", "video-medium-balanced", "video-large-quality",
                           "video-cpu-offload", "tts-base", "tts-voice-design", "tts-custom-voice",
                           "audio-generation", "audio-generation-offload", "demo-stable-audio-tiny",
                           "video-ti2v-5b-image", "video-i2v-14b-480p", "video-i2v-14b-720p", "video-i2v-a14b",
                           "demo-wan-ti2v-tiny", "demo-wan-i2v-tiny"}) {
        CAPTURE(id);
        CHECK(catalog.find(id) != nullptr);
    }
    CHECK(catalog.find("audio-generation")->hints["requires_hf_token"] == true);
    CHECK(catalog.find("tts-base")->hints["container_limitation"] == "onnxruntime");
    CHECK(catalog.find("video-cpu-offload")->defaults["enable_cpu_offload"] == true);

    std::vector<std::string> problems;
    const auto models = build_model_list(catalog, std::string(OMNIHOST_RECIPE_DIR) + "/catalog/models.json", problems);
    CHECK(problems.empty());
    CHECK(models["video"][0]["recipe"] == "demo-wan-tiny");
    CHECK(models["image"].size() >= 14);
    bool edit = false;
    for (const auto &m : models["image"])
        if (m["id"] == "Qwen/Qwen-Image-Edit") edit = m["supports_image_edit"] == true;
    CHECK(edit);
}

}
