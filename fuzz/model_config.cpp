// A model folder's JSON config (config.json, scheduler_config.json, model_index.json) through the
// reader every model uses, json_config::parse, and every typed getter on every key it holds and
// on the keys the Wan readers ask for. (The model-specific from_json readers live in the libtorch
// libraries, which clang 14 cannot compile in C++20 mode; they are thin calls of these getters.)
// Properties: a bad config or value is a model_error naming the file, nothing else escapes
// (no JSON type errors, no float-to-int overflow); a ranged read returns a value in its range.
#include "fuzz_check.h"

#include "core/config.h"
#include "core/model_error.h"

#include <limits>
#include <vector>

namespace {

using namespace omnihost::models;

template <class F>
void model_error_only(F &&read) {
    try {
        read();
    } catch (const model_error &e) {
        FUZZ_CHECK(std::string_view(e.what()).find("config.json") != std::string_view::npos,
                   "a config error that does not name the file");
    }
}

void read_every_way(const json_config &config, const std::string &key) {
    model_error_only([&] { (void)config.has(key); });
    model_error_only([&] { (void)config.get_int(key, 1); });
    model_error_only([&] { (void)config.get_double(key, 1.0); });
    model_error_only([&] { (void)config.get_bool(key, false); });
    model_error_only([&] { (void)config.get_string(key, ""); });
    model_error_only([&] { (void)config.get_int_list(key, {}); });
    model_error_only([&] { (void)config.get_double_list(key, {}); });
    model_error_only([&] { (void)config.get_optional_double(key); });
    model_error_only([&] {
        const int64_t v = config.get_int_in(key, 8, 1, config_bounds::max_dim);
        FUZZ_CHECK(v >= 1 && v <= config_bounds::max_dim, "get_int_in returned a value outside its range");
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_config config;
    try {
        config = json_config::parse(std::string(reinterpret_cast<const char *>(data), size), "config.json");
    } catch (const model_error &) {
        return 0;
    }
    std::vector<std::string> keys;
    for (const auto &[key, value] : config.raw().items()) keys.push_back(key);
    for (const char *key : {"num_layers", "num_attention_heads", "attention_head_dim", "patch_size", "eps",
                            "qk_norm", "d_model", "vocab_size", "flow_shift", "num_train_timesteps",
                            "latents_mean", "dim_mult", "temperal_downsample", "_class_name"})
        keys.push_back(key);
    for (const std::string &key : keys) read_every_way(config, key);
    return 0;
}
