// A plugin nobody has seen: plain C, built without omnihost's helpers, copied into a plugin folder
// at test time. Its manifest's parameter ("sharpness_knob", 3..17, default 5) becomes a validated
// API field with no host edit: out of range is a 400 naming it, absent or null gets the default,
// and the plugin receives exactly the validated value.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>

#include "host_process.h"

// tests/params: the every-kind manifest and its recipes.
#define PARAMS_FIXTURE_DIR RECIPE_DIR "/../tests/params"

using namespace omnihost_test;
using nlohmann::json;
namespace fs = std::filesystem;

TEST_SUITE("http_dropin") {

TEST_CASE("a dropped-in plain-C plugin's own parameter is validated, defaulted and delivered") {
    const fs::path folder = fs::temp_directory_path() / ("omnihost-dropin-" + std::to_string(::getpid()));
    fs::remove_all(folder);
    fs::create_directories(folder);
    for (const char *file : {"libdropin_plugin.so", "dropin_plugin.plugin.json"})
        fs::copy_file(fs::path(DROPIN_PLUGIN_DIR) / file, folder / file);
    {
        host_process host({.plugin_dir = folder.string()});
        const int port = host.port();
        const json plugins = get(port, "/api/omni/plugins").json();
        REQUIRE(plugins["plugins"].size() == 1);
        CHECK(plugins["plugins"][0]["available"] == true);
        CHECK(plugins["plugins"][0]["parameters"]["image"]["sharpness_knob"]["max"] == 17);

        REQUIRE(post(port, "/api/omni/start", {{"model", "any/model"}, {"model_type", "image"}, {"run_mode", "subprocess"}}).status == 202);
        REQUIRE(wait_for_state(port, "ready")["state"] == "ready");

        auto sent = [&](json body) { return post(port, "/api/omni/generate", body); };
        auto too_high = sent({{"prompt", "x"}, {"sharpness_knob", 18}});
        CHECK(too_high.status == 400);
        CHECK(too_high.json()["field"] == "sharpness_knob");
        CHECK(too_high.json()["error"] == "sharpness_knob: must be between 3 and 17 (got 18)");
        auto wrong_type = sent({{"prompt", "x"}, {"sharpness_knob", "7"}});
        CHECK(wrong_type.status == 400);
        CHECK(wrong_type.json()["field"] == "sharpness_knob");

        auto operator_only = sent({{"prompt", "x"}, {"watermark", "mine"}});
        CHECK(operator_only.status == 400);
        CHECK(operator_only.json()["error"] == "watermark: is set by the operator only, not by a request");

        auto chosen = sent({{"prompt", "x"}, {"sharpness_knob", 7}});
        REQUIRE_MESSAGE(chosen.status == 200, chosen.body);
        const json request = chosen.json()["metadata"]["request"];
        CHECK(request["sharpness_knob"] == 7);
        CHECK(request["task"] == "image");
        CHECK(request["prompt"] == "x");
        CHECK(request["watermark"] == "dropin"); // the manifest's default, never the request's

        for (const json &absent : {json{{"prompt", "x"}}, json{{"prompt", "x"}, {"sharpness_knob", nullptr}}}) {
            auto defaulted = sent(absent);
            REQUIRE_MESSAGE(defaulted.status == 200, defaulted.body);
            CHECK(defaulted.json()["metadata"]["request"]["sharpness_knob"] == 5);
        }
    }
    fs::remove_all(folder);
}

TEST_CASE("every manifest field kind, in a task and at start, validated end to end") {
    // The same plain-C library under tests/params/every_kind.plugin.json, with that folder's recipes.
    const fs::path folder = fs::temp_directory_path() / ("omnihost-kinds-" + std::to_string(::getpid()));
    fs::remove_all(folder);
    fs::create_directories(folder);
    fs::copy_file(fs::path(DROPIN_PLUGIN_DIR) / "libdropin_plugin.so", folder / "libdropin_plugin.so");
    fs::copy_file(fs::path(PARAMS_FIXTURE_DIR) / "every_kind.plugin.json", folder / "dropin_plugin.plugin.json");
    {
        host_process host({.extra_args = {"--default-recipe", "kinds-good"}, .plugin_dir = folder.string(),
                          .recipe_dir = std::string(PARAMS_FIXTURE_DIR) + "/recipes"});
        const int port = host.port();

        // Recipes are judged by the manifest when they load: the refused ones name recipe and field.
        const json recipes = get(port, "/api/omni/recipes").json();
        REQUIRE(recipes["recipes"].size() == 1);
        CHECK(recipes["recipes"][0]["id"] == "kinds-good");
        std::map<std::string, std::string> refused;
        for (const auto &p : recipes["invalid"]) refused[p["field"].get<std::string>()] = p["error"].get<std::string>();
        CHECK(refused["defaults.tile_px"] == "kinds-bad.json: recipe 'kinds-bad': defaults.tile_px: must be a multiple of 64 (got 100)");
        CHECK(refused["defaults.gpu_memory_utilization"].find(
                  "kinds-foreign.json: recipe 'kinds-foreign': defaults.gpu_memory_utilization: is not a parameter of plugin dropin_plugin") == 0);

        // Start settings: the manifest's start scope is the whole schema besides the routing fields.
        const json route = {{"model", "any/model"}, {"model_type", "image"}, {"run_mode", "subprocess"}};
        auto start_error = [&](json extra) {
            json body = route;
            body.update(extra);
            auto result = post(port, "/api/omni/command-preview", body);
            return std::to_string(result.status) + "|" + result.json().value("field", "");
        };
        CHECK(start_error({{"cache_mb", 8}}) == "400|cache_mb");
        CHECK(start_error({{"cache_mb", "big"}}) == "400|cache_mb");
        CHECK(start_error({{"endpoint", "ftp://x"}}) == "400|endpoint");
        CHECK(start_error({{"precision", "int8"}}) == "400|precision");
        CHECK(start_error({{"licence_key", "mine"}}) == "400|licence_key");
        CHECK(start_error({{"port", 8000}}) == "400|port"); // a vLLM setting this plugin does not have
        auto preview = post(port, "/api/omni/command-preview", route);
        REQUIRE_MESSAGE(preview.status == 200, preview.body);
        const json settings = preview.json()["settings"];
        CHECK(settings["cache_mb"] == 256);
        CHECK(settings["precision"] == "fp32");
        CHECK(settings["licence_key"] == "site");
        auto from_recipe = post(port, "/api/omni/command-preview", {{"recipe", "kinds-good"}});
        REQUIRE_MESSAGE(from_recipe.status == 200, from_recipe.body);
        CHECK(from_recipe.json()["settings"]["cache_mb"] == 512);
        CHECK_FALSE(from_recipe.json()["settings"].contains("denoise")); // a generation default stays out

        REQUIRE(post(port, "/api/omni/start", {{"recipe", "kinds-good"}, {"cache_mb", 1024}}).status == 202);
        REQUIRE(wait_for_state(port, "ready")["state"] == "ready");

        auto sent = [&](json body) { return post(port, "/api/omni/generate", body); };
        struct refusal_case {
            json body;
            const char *field;
            const char *message;
        };
        const std::vector<refusal_case> refusals = {
            {{{"prompt", "x"}, {"sharpness_knob", 2}}, "sharpness_knob", "sharpness_knob: must be between 3 and 17 (got 2)"},
            {{{"prompt", "x"}, {"sharpness_knob", 4.5}}, "sharpness_knob", "sharpness_knob: must be an integer (got number)"},
            {{{"prompt", "x"}, {"strength", 0.95}}, "strength", "strength: must be between 0.1 and 0.9 (got 0.95)"},
            {{{"prompt", "x"}, {"str", 0.05}}, "strength", "strength: must be between 0.1 and 0.9 (got 0.05)"},
            {{{"prompt", "x"}, {"str", 0.2}, {"strength", 0.3}}, "str", "str: is another name for strength, which is also given"},
            {{{"prompt", "x"}, {"tile_px", 100}}, "tile_px", "tile_px: must be a multiple of 64 (got 100)"},
            {{{"prompt", "x"}, {"sampler", "ddim"}}, "sampler", "sampler: 'ddim' is not one of euler, unipc, dpm"},
            {{{"prompt", "x"}, {"tiling", "yes"}}, "tiling", "tiling: must be a boolean (got string)"},
            {{{"prompt", "x"}, {"style", "a-very-long-style-name"}}, "style", "style: length must be at most 16 bytes (got 22)"},
            {{{"prompt", "x"}, {"count", 0}}, "count", "count: must be between 1 and 4 (got 0)"},
            {{{"prompt", "x"}, {"watermark", "mine"}}, "watermark", "watermark: is set by the operator only, not by a request"},
            {{{"prompt", "x"}, {"seed", 1000}}, "seed", "seed: must be between 0 and 999 (got 1000)"},
            {{{"prompt", std::string(201, 'p')}}, "prompt", "prompt: length must be at most 200 bytes (got 201)"},
            {{{"prompt", "x"}, {"num_inference_steps", 4}}, "num_inference_steps", "num_inference_steps: unknown field"},
        };
        for (const auto &r : refusals) {
            CAPTURE(r.body.dump());
            auto result = sent(r.body);
            CHECK(result.status == 400);
            CHECK(result.json()["field"] == r.field);
            CHECK(result.json()["error"] == r.message);
        }
        // Defaults: the recipe's (under its alias), then the manifest's; no default: not sent.
        auto defaulted = sent({{"prompt", "x"}});
        REQUIRE_MESSAGE(defaulted.status == 200, defaulted.body);
        const json request = defaulted.json()["metadata"]["request"];
        CHECK(request["strength"] == 0.3);     // recipe "denoise"
        CHECK(request["sampler"] == "dpm");     // recipe
        CHECK(request["sharpness_knob"] == 5); // manifest
        CHECK(request["tile_px"] == 512);
        CHECK(request["tiling"] == false);
        CHECK(request["style"] == "plain");
        CHECK(request["watermark"] == "dropin");
        CHECK_FALSE(request.contains("count"));
        CHECK_FALSE(request.contains("denoise"));
        // Chosen values (an alias, a free choice) arrive under the plugin's names.
        auto chosen = sent({{"prompt", "x"}, {"denoise", 0.7}, {"style", "my own"}, {"count", 3}, {"tiling", true}});
        REQUIRE_MESSAGE(chosen.status == 200, chosen.body);
        const json got = chosen.json()["metadata"]["request"];
        CHECK(got["strength"] == 0.7);
        CHECK(got["style"] == "my own");
        CHECK(got["count"] == 3);
        CHECK(got["tiling"] == true);
        CHECK_FALSE(got.contains("denoise"));
        CHECK(get(port, "/api/omni/status").json()["state"] == "ready"); // the host kept serving
    }
    fs::remove_all(folder);
}

} // TEST_SUITE
