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

class json_config {
public:
    // Reads and parses `file` (model_error naming the file when absent or not a JSON object).
    static json_config load(const std::filesystem::path &file);
    // `origin` names the source in error messages (a file name or "<inline>").
    static json_config parse(const std::string &text, const std::string &origin);

    // True when the key is present and not null.
    bool has(const std::string &key) const;

    int64_t get_int(const std::string &key, int64_t fallback) const;
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
