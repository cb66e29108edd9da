#include "core/config.h"
#include "core/hub.h"
#include "core/runtime.h"
#include "core/safetensors.h"
#include "temp_dir.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <optional>

namespace fs = std::filesystem;
using namespace omnihost::models;

namespace {

void write_all(const fs::path &p, const std::string &s) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << s;
}

// Sets environment variables for one test and restores them afterwards.
struct env_guard {
    std::vector<std::pair<std::string, std::optional<std::string>>> saved;
    void set(const std::string &k, const std::optional<std::string> &v) {
        const char *old = std::getenv(k.c_str());
        saved.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
        if (v) setenv(k.c_str(), v->c_str(), 1);
        else unsetenv(k.c_str());
    }
    ~env_guard() {
        for (auto it = saved.rbegin(); it != saved.rend(); ++it) {
            if (it->second) setenv(it->first.c_str(), it->second->c_str(), 1);
            else unsetenv(it->first.c_str());
        }
    }
};

}  // namespace

TEST_CASE("models.core: json_config defaults, unknown keys, floats as ints, type errors") {
    auto c = json_config::parse(R"({"num_layers": 30, "sample_size": 1024.0, "eps": 1e-6, "flag": true,
        "patch_size": [1, 2, 2], "image_dim": null, "name": "x", "future_key": {"a": 1}})", "config.json");
    CHECK(c.get_int("num_layers", 0) == 30);
    CHECK(c.get_int("sample_size", 0) == 1024);
    CHECK(c.get_double("eps", 0) == doctest::Approx(1e-6));
    CHECK(c.get_bool("flag", false));
    CHECK(c.get_int_list("patch_size", {}) == std::vector<int64_t>{1, 2, 2});
    CHECK(c.get_int("image_dim", -1) == -1);  // null -> default
    CHECK_FALSE(c.has("image_dim"));
    CHECK(c.get_int("missing", 7) == 7);
    CHECK_FALSE(c.get_optional_double("missing").has_value());
    CHECK(c.get_string("name", "") == "x");
    try {
        c.get_int("name", 0);
        FAIL("expected a model_error");
    } catch (const model_error &e) {
        CHECK(std::string(e.what()).find("config.json: key 'name'") != std::string::npos);
    }
    CHECK_THROWS_AS(c.get_int("eps", 0), model_error);  // 1e-6 is not an integer
    CHECK_THROWS_AS(json_config::parse("{not json", "x.json"), model_error);
    CHECK_THROWS_AS(json_config::parse("[1]", "x.json"), model_error);
    CHECK_THROWS_AS(json_config::load("/nonexistent/config.json"), model_error);
}

TEST_CASE("models.core: model_index lists present components, null ones are absent") {
    temp_dir tmp;
    write_all(tmp.path / "model_index.json", R"({"_class_name": "WanPipeline", "_diffusers_version": "0.40.0",
        "boundary_ratio": null, "expand_timesteps": false, "transformer": ["diffusers", "WanTransformer3DModel"],
        "transformer_2": [null, null], "text_encoder": ["transformers", "UMT5EncoderModel"]})");
    auto idx = model_index::load(tmp.path);
    CHECK(idx.class_name == "WanPipeline");
    CHECK(idx.has("transformer"));
    CHECK_FALSE(idx.has("transformer_2"));
    CHECK(idx.component("text_encoder").library == "transformers");
    CHECK(idx.component("transformer").class_name == "WanTransformer3DModel");
    CHECK_THROWS_AS(idx.component("vae"), model_error);
    CHECK_FALSE(idx.config.get_optional_double("boundary_ratio").has_value());
    CHECK_FALSE(idx.config.get_bool("expand_timesteps", true));
    CHECK_THROWS_AS(model_index::load(tmp.path / "nope"), model_error);
}

TEST_CASE("models.core: hub ids resolve in the Hugging Face cache, local folders as is") {
    temp_dir tmp;
    env_guard env;
    env.set("HF_HUB_CACHE", std::nullopt);
    env.set("HF_HOME", std::nullopt);
    env.set("XDG_CACHE_HOME", std::nullopt);
    env.set("HOME", (tmp.path / "home").string());

    // A local folder wins.
    fs::create_directories(tmp.path / "local");
    CHECK(resolve_model_path((tmp.path / "local").string()) == tmp.path / "local");

    // ~/.cache/huggingface/hub with refs/main.
    const fs::path home_hub = tmp.path / "home/.cache/huggingface/hub/models--Wan-AI--Wan2.1-T2V-1.3B-Diffusers";
    fs::create_directories(home_hub / "snapshots/aaa111");
    fs::create_directories(home_hub / "snapshots/bbb222");
    write_all(home_hub / "refs/main", "bbb222\n");
    CHECK(resolve_model_path("Wan-AI/Wan2.1-T2V-1.3B-Diffusers") == home_hub / "snapshots/bbb222");
    CHECK(resolve_model_path("Wan-AI/Wan2.1-T2V-1.3B-Diffusers@aaa111") == home_hub / "snapshots/aaa111");

    // HF_HOME/hub comes before ~/.cache; HF_HUB_CACHE before both.
    const fs::path hf_home_repo = tmp.path / "hfhome/hub/models--Wan-AI--Wan2.1-T2V-1.3B-Diffusers";
    fs::create_directories(hf_home_repo / "snapshots/ccc333");  // no refs: the only snapshot is used
    env.set("HF_HOME", (tmp.path / "hfhome").string());
    CHECK(resolve_model_path("Wan-AI/Wan2.1-T2V-1.3B-Diffusers") == hf_home_repo / "snapshots/ccc333");
    const fs::path hub_cache_repo = tmp.path / "hubcache/models--Wan-AI--Wan2.1-T2V-1.3B-Diffusers";
    fs::create_directories(hub_cache_repo / "snapshots/ddd444");
    write_all(hub_cache_repo / "refs/main", "ddd444");
    env.set("HF_HUB_CACHE", (tmp.path / "hubcache").string());
    CHECK(resolve_model_path("Wan-AI/Wan2.1-T2V-1.3B-Diffusers") == hub_cache_repo / "snapshots/ddd444");
    CHECK(hf_cache_roots().front() == tmp.path / "hubcache");

    // Absent: the error lists every place it looked.
    try {
        resolve_model_path("Org/Missing-Model");
        FAIL("expected a model_error");
    } catch (const model_error &e) {
        const std::string m = e.what();
        CHECK(m.find("Org/Missing-Model") != std::string::npos);
        CHECK(m.find((tmp.path / "hubcache/models--Org--Missing-Model/snapshots").string()) != std::string::npos);
        CHECK(m.find((tmp.path / "hfhome/hub/models--Org--Missing-Model/snapshots").string()) != std::string::npos);
        CHECK(m.find((tmp.path / "home/.cache/huggingface/hub/models--Org--Missing-Model/snapshots").string()) != std::string::npos);
    }
    try {
        resolve_model_path("/no/such/folder");
        FAIL("expected a model_error");
    } catch (const model_error &e) {
        CHECK(std::string(e.what()).find("/no/such/folder (local folder)") != std::string::npos);
    }
}

TEST_CASE("models.core: device, dtype and threads settings") {
    CHECK((parse_dtype("fp32") == c10::kFloat));
    CHECK((parse_dtype("BF16") == c10::kBFloat16));
    CHECK((parse_dtype("bfloat16") == c10::kBFloat16));
    try {
        parse_dtype("int4");
        FAIL("expected a model_error");
    } catch (const model_error &e) {
        CHECK(std::string(e.what()).find("dtype") != std::string::npos);
    }
    CHECK(parse_device("cpu").is_cpu());
    CHECK_THROWS_AS(parse_device("tpu"), model_error);
    // This build has no CUDA: "auto" falls back to cpu and "cuda" is a clear error.
    if (!parse_device("auto").is_cuda()) {
        CHECK(parse_device("auto").is_cpu());
        CHECK_THROWS_AS(parse_device("cuda"), model_error);
    }
    CHECK(configure_threads(1) == 1);
    CHECK(configure_threads(0) >= 1);
    CHECK(tune_allocator() == tune_allocator());
    CHECK(dtype_name(c10::kBFloat16) == "bf16");
}
