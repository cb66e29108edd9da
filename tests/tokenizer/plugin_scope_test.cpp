// The tokenizer inside a torch plugin that the host loads with RTLD_LOCAL (the host links neither
// libtorch nor sentencepiece), as the video plugin runs it; and the run-time lookup of the module
// beside the plugin when plugin and module are moved to another folder together.
#include "golden_ids.h"

#include <doctest/doctest.h>

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>

namespace fs = std::filesystem;

namespace {

using run_fn = int64_t (*)(const char *, const char *, int64_t *, int64_t, char *, size_t, char *, size_t);

struct plugin_result {
    std::vector<int64_t> ids;
    std::string module_path;
};

plugin_result run_plugin(const fs::path &plugin) {
    void *handle = dlopen(plugin.c_str(), RTLD_NOW | RTLD_LOCAL);
    REQUIRE_MESSAGE(handle != nullptr, dlerror());
    auto run = reinterpret_cast<run_fn>(dlsym(handle, "omnihost_tokenizer_test_plugin_run"));
    REQUIRE_MESSAGE(reinterpret_cast<void *>(run) != nullptr, "plugin lacks omnihost_tokenizer_test_plugin_run");
    plugin_result r;
    r.ids.resize(16);
    char module[4096] = {0};
    char err[1024] = {0};
    const auto meta = nlohmann::json::parse(
        omnihost::test::read_file(omnihost::test::golden_dir() / "wan21_cases" / "tokenizer_ids.json"));
    const auto prompt = meta.at("prompts")[1].get<std::string>();
    const auto tokenizer = omnihost::test::golden_dir() / "wan21_tiny" / "tokenizer";
    const int64_t n = run(tokenizer.c_str(), prompt.c_str(), r.ids.data(), 16, module, sizeof module, err, sizeof err);
    REQUIRE_MESSAGE(n == 16, err);
    r.module_path = module;
    return r;
}

std::vector<int64_t> golden_row(int64_t row) {
    const auto golden = omnihost::test::read_i64_safetensors(omnihost::test::golden_dir() / "wan21_cases" /
                                                             "tokenizer_ids.safetensors");
    const auto &ids = golden.at("L16.input_ids").values;
    return std::vector<int64_t>(ids.begin() + row * 16, ids.begin() + (row + 1) * 16);
}

}  // namespace

TEST_CASE("tokenizer works inside a torch plugin loaded with RTLD_LOCAL") {
    const auto r = run_plugin(OMNIHOST_TEST_PLUGIN_PATH);
    CHECK(r.ids == golden_row(1));
    CHECK(fs::equivalent(r.module_path, OMNIHOST_TOKENIZER_MODULE_PATH));
}

TEST_CASE("a relocated plugin finds the module beside itself") {
    const fs::path dir = fs::temp_directory_path() / ("omnihost_tok_plugin_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path plugin = dir / fs::path(OMNIHOST_TEST_PLUGIN_PATH).filename();
    const fs::path module = dir / fs::path(OMNIHOST_TOKENIZER_MODULE_PATH).filename();
    fs::copy_file(OMNIHOST_TEST_PLUGIN_PATH, plugin);
    fs::copy_file(OMNIHOST_TOKENIZER_MODULE_PATH, module);
    const auto r = run_plugin(plugin);
    CHECK(r.ids == golden_row(1));
    CHECK(fs::equivalent(r.module_path, module));
    fs::remove_all(dir);
}
