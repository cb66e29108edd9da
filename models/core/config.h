// Reading diffusers / transformers JSON configs (config.json, scheduler_config.json,
// model_index.json). Rules shared by every model: unknown keys are ignored, missing keys and
// nulls take the caller's default, integers stored as floats (1024.0) are accepted, and a value
// of the wrong type is a model_error naming the file and the key.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace omnihost::models {

// Upper bounds for config.json dimensions, far above every released model (Wan2.1-14B: 40 layers,
// 40 heads, ffn 13824; UMT5-XXL: vocab 256384, d_ff 10240) and far below what would overflow or
// exhaust memory while building modules.
struct config_bounds {
    static constexpr int64_t max_layers = 1024;
    static constexpr int64_t max_heads = 1024;
    static constexpr int64_t max_head_dim = 4096;
    static constexpr int64_t max_dim = 1 << 17;        // hidden / model / text / ffn widths
    static constexpr int64_t max_channels = 1 << 14;   // latent / image channels, VAE base widths
    static constexpr int64_t max_vocab = 1 << 22;
    static constexpr int64_t max_patch = 64;
    static constexpr int64_t max_positions = 1 << 20;  // rope lengths, relative-attention distances
};

class json_config {
public:
    // Reads and parses `file` (model_error naming the file when absent, not a regular file, larger
    // than max_model_json_bytes, nested deeper than the JSON depth limit, or not a JSON object).
    static json_config load(const std::filesystem::path &file);
    // `origin` names the source in error messages (a file name or "<inline>"). Same limits as load.
    // Also the entry point for fuzzing config parsing from a byte buffer.
    static json_config parse(const std::string &text, const std::string &origin);

    // True when the key is present and not null.
    bool has(const std::string &key) const;

    int64_t get_int(const std::string &key, int64_t fallback) const;
    // get_int, then a model_error naming the key when the value is outside [min, max]: configs
    // are untrusted, and an absurd dimension would otherwise become an absurd allocation.
    int64_t get_int_in(const std::string &key, int64_t fallback, int64_t min, int64_t max) const;
    // The same range error for a value already read (or derived) under `key`.
    void check_range(const std::string &key, int64_t value, int64_t min, int64_t max) const;
    double get_double(const std::string &key, double fallback) const;
    bool get_bool(const std::string &key, bool fallback) const;
    std::string get_string(const std::string &key, const std::string &fallback) const;
    std::vector<int64_t> get_int_list(const std::string &key, const std::vector<int64_t> &fallback) const;
    std::vector<double> get_double_list(const std::string &key, const std::vector<double> &fallback) const;
    std::optional<double> get_optional_double(const std::string &key) const;

    const nlohmann::json &raw() const { return data_; }
    const std::string &origin() const { return origin_; }

private:
    nlohmann::json data_;
    std::string origin_;
    const nlohmann::json *find(const std::string &key) const;  // nullptr when absent or null
};

// One entry of model_index.json: "transformer": ["diffusers", "WanTransformer3DModel"].
struct pipeline_component {
    std::string library;     // "diffusers", "transformers", ...
    std::string class_name;  // "WanTransformer3DModel", ...
};

// model_index.json of a diffusers pipeline folder. Components listed as [null, null] are absent.
struct model_index {
    std::string class_name;  // "_class_name", e.g. "WanPipeline"
    std::map<std::string, pipeline_component> components;
    json_config config;  // everything else (boundary_ratio, expand_timesteps, ...)

    static model_index load(const std::filesystem::path &model_dir);
    bool has(const std::string &component) const { return components.count(component) != 0; }
    // model_error naming the component and the file when it is not listed.
    const pipeline_component &component(const std::string &name) const;
};

}  // namespace omnihost::models
