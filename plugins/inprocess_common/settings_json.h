// Typed getters for the in-process plugins' settings JSON (create config, start settings,
// requests). A field is looked up at the top level, then in a "defaults" object (top level wins),
// so both a flat merged start request and a raw recipe work; null means "not given". A wrong type
// is a plugin_error INVALID_ARGUMENT whose message starts with the field name.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace omnihost::inprocess {

// Outside JSON text (create config, start settings, a request) as an object, bounded by
// parse_json_bounded; "" counts as {}. Invalid JSON, a refused size/depth or a non-object is an
// INVALID_ARGUMENT naming `what`.
nlohmann::json parse_object(const std::string &text, const char *what);

// The field at the top level, else in "defaults"; nullptr when absent or null.
const nlohmann::json *find(const nlohmann::json &j, const std::string &key);

bool get_bool(const nlohmann::json &j, const std::string &key, bool fallback);
// Finite numbers only.
double get_number(const nlohmann::json &j, const std::string &key, double fallback);
// Integers may arrive as 64.0 from JavaScript; fractional values are refused.
int64_t get_int(const nlohmann::json &j, const std::string &key, int64_t fallback);
std::string get_string(const nlohmann::json &j, const std::string &key, const std::string &fallback);

// A request's "seed": a non-negative integer up to 2^64-1; absent, a random one within
// JavaScript's exact integer range (2^53) so the UI can echo it back, with `was_random` set.
uint64_t get_seed(const nlohmann::json &j, bool &was_random);

// The operator's extra model roots, as absolute lexically normal paths: the create config's
// "model_roots" (a list of folders or one colon-separated string) followed by
// $OMNIHOST_MODEL_ROOTS (colon-separated).
std::vector<std::filesystem::path> read_model_roots(const nlohmann::json &config);

}  // namespace omnihost::inprocess
