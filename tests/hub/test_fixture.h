// Shared by the downloader tests: a temp Hugging Face cache (HF_HUB_CACHE pointed at it, the
// other HF_* variables cleared for the test) and a small diffusers-shaped repository.
#pragma once

#include "hub_standin.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <unistd.h>

namespace hub_test {

namespace fs = std::filesystem;

inline std::string read_file(const fs::path &p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Sets variables for one test and puts the old values back after it.
class env_guard {
public:
    void set(const char *name, const std::string &value) {
        remember(name);
        ::setenv(name, value.c_str(), 1);
    }
    void unset(const char *name) {
        remember(name);
        ::unsetenv(name);
    }
    ~env_guard() {
        for (const auto &[name, old] : saved_) {
            if (old.first) ::setenv(name.c_str(), old.second.c_str(), 1);
            else ::unsetenv(name.c_str());
        }
    }

private:
    void remember(const char *name) {
        if (saved_.count(name)) return;
        const char *v = std::getenv(name);
        saved_[name] = {v != nullptr, v ? v : ""};
    }
    std::map<std::string, std::pair<bool, std::string>> saved_;
};

struct temp_cache {
    fs::path root;
    env_guard env;
    temp_cache() {
        std::random_device rd;
        root = fs::temp_directory_path() / ("omnihost-hub-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
        fs::create_directories(root / "hub");
        env.set("HF_HUB_CACHE", (root / "hub").string());
        for (const char *v : {"HF_HOME", "HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"}) env.unset(v);
    }
    ~temp_cache() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
    fs::path hub() const { return root / "hub"; }
};

// Bytes that do not compress or repeat, so a wrong offset shows in the digest.
inline std::string noise(std::size_t n, unsigned seed) {
    std::mt19937 g(seed);
    std::string s(n, '\0');
    for (auto &c : s) c = char(g() & 0xff);
    return s;
}

// A diffusers-shaped repository, with files a pipeline does not need beside it.
inline hub_standin::repo small_pipeline() {
    hub_standin::repo r;
    r.files["model_index.json"] = R"({"_class_name": "WanPipeline", "_diffusers_version": "0.35.0",
        "transformer": ["diffusers", "WanTransformer3DModel"], "vae": ["diffusers", "AutoencoderKLWan"],
        "tokenizer": ["transformers", "T5TokenizerFast"], "scheduler": ["diffusers", "UniPCMultistepScheduler"],
        "text_encoder": [null, null]})";
    r.files["transformer/config.json"] = R"({"num_layers": 1})";
    r.files["transformer/diffusion_pytorch_model.safetensors"] = noise(300000, 1);
    r.files["transformer/diffusion_pytorch_model.fp16.safetensors"] = noise(1000, 2);  // variant: skipped
    r.files["vae/config.json"] = R"({"z_dim": 4})";
    r.files["vae/diffusion_pytorch_model.safetensors"] = noise(50000, 3);
    r.files["tokenizer/tokenizer.json"] = R"({"model": {}})";
    r.files["tokenizer/spiece.model"] = noise(1000, 4);
    r.files["scheduler/scheduler_config.json"] = R"({"shift": 3.0})";
    r.files["README.md"] = "# not needed";                       // skipped
    r.files["model.safetensors"] = noise(70000, 5);                 // the original checkpoint: skipped
    r.files["extras/config.json"] = "{}";                           // no component of the pipeline: skipped
    r.files["transformer/diffusion_pytorch_model.bin"] = "pickle";  // skipped: never pickles
    return r;
}

// The id the tests serve their pipeline under.
inline const char *const kPipelineId = "test-org/tiny-pipe";

// One downloader test's world (use with TEST_CASE_FIXTURE): a temp cache, the stand-in hub, and
// the repository to serve there, small_pipeline() unless the test edits `repo` (a private or
// gated one) before serve().
struct pipeline_fixture {
    temp_cache cache;
    hub_standin::server hub;
    hub_standin::repo repo = small_pipeline();

    // Serves `repo` as kPipelineId; returns its commit.
    std::string serve() { return hub.add_repo(kPipelineId, repo); }
    // serve(), and HF_ENDPOINT pointed at the stand-in for code that reads the environment.
    std::string serve_as_endpoint() {
        cache.env.set("HF_ENDPOINT", hub.endpoint());
        return serve();
    }
};

}  // namespace hub_test
