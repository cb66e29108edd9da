// Recipe validation: every error names the file and the field; the shipped recipes all load.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

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

// Parses `doc` as file "v1.json"; returns the problem message ("" when valid).
std::string problem_of(const nlohmann::json &doc, std::string *field = nullptr) {
    RecipeProblem problem;
    auto recipe = parse_recipe(doc, "v1.json", problem);
    if (field) *field = problem.field;
    return recipe ? "" : problem.message;
}

} // namespace

TEST_SUITE("recipes") {

TEST_CASE("a complete video recipe is valid and keeps its defaults") {
    RecipeProblem problem;
    auto recipe = parse_recipe(good_video(), "v1.json", problem);
    REQUIRE(recipe);
    CHECK(recipe->run_mode == "subprocess");
    CHECK(recipe->defaults["flow_shift"] == 5.0);
    CHECK(recipe->to_json()["hints"]["requires_hf_token"] == false);
}

TEST_CASE("each kind of mistake names the file and the field") {
    struct Case {
        const char *what;
        std::function<void(nlohmann::json &)> mutate;
        const char *field;
        const char *text;
    };
    const std::vector<Case> cases = {
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
        {"height as a string", [](auto &d) { d["defaults"]["height"] = "320"; }, "defaults.height", "must be an integer"},
        {"height out of range", [](auto &d) { d["defaults"]["height"] = 99999; }, "defaults.height", "between"},
        {"fractional steps", [](auto &d) { d["defaults"]["steps"] = 2.5; }, "defaults.steps", "must be an integer"},
        {"negative guidance", [](auto &d) { d["defaults"]["guidance"] = -1; }, "defaults.guidance", "between"},
        {"typo in defaults", [](auto &d) { d["defaults"]["stpes"] = 4; }, "defaults.stpes", "unknown field"},
        {"audio key in a video recipe", [](auto &d) { d["defaults"]["voice"] = "Vivian"; }, "defaults.voice", "unknown field"},
        {"vae flag not boolean", [](auto &d) { d["defaults"]["vae_use_tiling"] = 1; }, "defaults.vae_use_tiling", "must be a boolean"},
        {"gpu memory above 1", [](auto &d) { d["defaults"]["gpu_memory_utilization"] = 1.5; }, "defaults.gpu_memory_utilization", "between"},
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
    bad["defaults"]["fps"] = 0;
    write("bad.json", bad.dump());
    write("notes.txt", "ignored");

    RecipeCatalog catalog;
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
        saw_fps = saw_fps || (p.file == "bad.json" && p.field == "defaults.fps");
        saw_json = saw_json || (p.file == "broken.json" && p.message.find("invalid JSON") != std::string::npos);
    }
    CHECK(saw_fps);
    CHECK(saw_json);

    RecipeCatalog missing_default;
    missing_default.load(dir.string(), "nope");
    CHECK(missing_default.problems().size() == 3);
    fs::remove_all(dir);
}

TEST_CASE("every shipped recipe is valid: the playground's 17, four image-to-video and the four demos, video demo first") {
    RecipeCatalog catalog;
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
