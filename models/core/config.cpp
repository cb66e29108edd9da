#include "core/config.h"

#include "core/model_error.h"
#include "core/regular_file.h"

#include <common/json_limits.h>

#include <cmath>

namespace omnihost::models {
namespace {

std::string describe(const nlohmann::json &v) {
    std::string s = v.dump();
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return s;
}

[[noreturn]] void bad_type(const std::string &origin, const std::string &key, const char *want,
                           const nlohmann::json &v) {
    throw model_error(origin + ": key '" + key + "' must be " + want + ", got " + describe(v));
}

bool as_int(const nlohmann::json &v, int64_t &out) {
    if (v.is_number_integer() || v.is_number_unsigned()) {
        out = v.get<int64_t>();
        return true;
    }
    if (v.is_number_float()) {  // configs written by Python sometimes hold 1024.0
        double d = v.get<double>();
        if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15) {
            out = static_cast<int64_t>(d);
            return true;
        }
    }
    return false;
}

}  // namespace

json_config json_config::load(const std::filesystem::path &file) {
    return parse(read_regular_file(file, "config file", max_model_json_bytes), file.string());
}

json_config json_config::parse(const std::string &text, const std::string &origin) {
    json_config c;
    c.origin_ = origin;
    try {
        c.data_ = omnihost::parse_json_bounded(text, omnihost::json_limits{omnihost::json_default_max_depth,
                                                                           max_model_json_bytes});
    } catch (const nlohmann::json::exception &e) {
        throw model_error(origin + ": invalid JSON: " + e.what());
    } catch (const omnihost::json_limit_error &e) {
        throw model_error(origin + ": invalid JSON: " + e.what());
    }
    if (!c.data_.is_object()) throw model_error(origin + ": expected a JSON object at the top level");
    return c;
}

const nlohmann::json *json_config::find(const std::string &key) const {
    auto it = data_.find(key);
    if (it == data_.end() || it->is_null()) return nullptr;
    return &*it;
}

bool json_config::has(const std::string &key) const { return find(key) != nullptr; }

int64_t json_config::get_int(const std::string &key, int64_t fallback) const {
    const auto *v = find(key);
    if (!v) return fallback;
    int64_t out = 0;
    if (!as_int(*v, out)) bad_type(origin_, key, "an integer", *v);
    return out;
}

double json_config::get_double(const std::string &key, double fallback) const {
    const auto *v = find(key);
    if (!v) return fallback;
    if (!v->is_number()) bad_type(origin_, key, "a number", *v);
    return v->get<double>();
}

std::optional<double> json_config::get_optional_double(const std::string &key) const {
    const auto *v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number()) bad_type(origin_, key, "a number or null", *v);
    return v->get<double>();
}

bool json_config::get_bool(const std::string &key, bool fallback) const {
    const auto *v = find(key);
    if (!v) return fallback;
    if (!v->is_boolean()) bad_type(origin_, key, "true or false", *v);
    return v->get<bool>();
}

std::string json_config::get_string(const std::string &key, const std::string &fallback) const {
    const auto *v = find(key);
    if (!v) return fallback;
    if (!v->is_string()) bad_type(origin_, key, "a string", *v);
    return v->get<std::string>();
}

int64_t json_config::get_int_in(const std::string &key, int64_t fallback, int64_t min, int64_t max) const {
    const int64_t v = get_int(key, fallback);
    check_range(key, v, min, max);
    return v;
}

void json_config::check_range(const std::string &key, int64_t value, int64_t min, int64_t max) const {
    if (value < min || value > max)
        throw model_error(origin_ + ": key '" + key + "' is " + std::to_string(value) + ", outside the supported range [" +
                          std::to_string(min) + ", " + std::to_string(max) + "]");
}

std::vector<int64_t> json_config::get_int_list(const std::string &key,
                                               const std::vector<int64_t> &fallback) const {
    const auto *v = find(key);
    if (!v) return fallback;
    std::vector<int64_t> out;
    if (!v->is_array()) {  // a scalar where a list is expected (e.g. patch_size 2) is one element
        int64_t x = 0;
        if (!as_int(*v, x)) bad_type(origin_, key, "a list of integers", *v);
        return {x};
    }
    for (const auto &e : *v) {
        int64_t x = 0;
        if (!as_int(e, x)) bad_type(origin_, key, "a list of integers", *v);
        out.push_back(x);
    }
    return out;
}

std::vector<double> json_config::get_double_list(const std::string &key,
                                                 const std::vector<double> &fallback) const {
    const auto *v = find(key);
    if (!v) return fallback;
    if (!v->is_array()) bad_type(origin_, key, "a list of numbers", *v);
    std::vector<double> out;
    for (const auto &e : *v) {
        if (!e.is_number()) bad_type(origin_, key, "a list of numbers", *v);
        out.push_back(e.get<double>());
    }
    return out;
}

model_index model_index::load(const std::filesystem::path &model_dir) {
    const auto file = model_dir / "model_index.json";
    std::error_code ec;
    if (!std::filesystem::exists(file, ec))
        throw model_error(file.string() + ": model_index.json not found (not a diffusers pipeline folder?)");
    model_index idx;
    idx.config = json_config::load(file);
    idx.class_name = idx.config.get_string("_class_name", "");
    for (const auto &[key, value] : idx.config.raw().items()) {
        if (key.empty() || key[0] == '_' || !value.is_array()) continue;
        if (value.size() != 2) continue;
        if (value[0].is_null() || value[1].is_null()) continue;  // optional component left out
        if (!value[0].is_string() || !value[1].is_string())
            throw model_error(file.string() + ": component '" + key + "' must be [library, class] strings");
        idx.components[key] = pipeline_component{value[0].get<std::string>(), value[1].get<std::string>()};
    }
    return idx;
}

const pipeline_component &model_index::component(const std::string &name) const {
    auto it = components.find(name);
    if (it == components.end())
        throw model_error(config.origin() + ": component '" + name + "' is not listed (or is null)");
    return it->second;
}

}  // namespace omnihost::models
