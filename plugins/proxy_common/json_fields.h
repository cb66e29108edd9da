// Typed reads of optional fields from the start/create JSON. A wrong type or range throws
// proxy_error(INVALID_ARGUMENT) naming the field; null counts as absent.
#pragma once

#include "proxy_error.h"

#include <nlohmann/json.hpp>

#include <string>

namespace omnihost::proxy {

inline bool has_field(const nlohmann::json& j, const char* key) {
    return j.is_object() && j.contains(key) && !j[key].is_null();
}

inline std::string get_string(const nlohmann::json& j, const char* key, const std::string& def = "") {
    if (!has_field(j, key)) return def;
    if (!j[key].is_string()) throw invalid_field(key, "must be a string");
    return j[key].get<std::string>();
}

inline bool get_bool(const nlohmann::json& j, const char* key, bool def) {
    if (!has_field(j, key)) return def;
    if (!j[key].is_boolean()) throw invalid_field(key, "must be true or false");
    return j[key].get<bool>();
}

inline long long get_int(const nlohmann::json& j, const char* key, long long def, long long min,
                         long long max) {
    if (!has_field(j, key)) return def;
    const auto& v = j[key];
    long long x;
    if (v.is_number_integer()) x = v.get<long long>();
    else if (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>())))
        x = static_cast<long long>(v.get<double>());
    else throw invalid_field(key, "must be an integer");
    if (x < min || x > max)
        throw invalid_field(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                                     " (got " + std::to_string(x) + ")");
    return x;
}

inline double get_number(const nlohmann::json& j, const char* key, double def, double min, double max) {
    if (!has_field(j, key)) return def;
    if (!j[key].is_number()) throw invalid_field(key, "must be a number");
    double x = j[key].get<double>();
    if (!(x >= min && x <= max))
        throw invalid_field(key, "must be between " + nlohmann::json(min).dump() + " and " +
                                     nlohmann::json(max).dump() + " (got " + nlohmann::json(x).dump() + ")");
    return x;
}

}  // namespace omnihost::proxy
