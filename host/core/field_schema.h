// field_schema.h — declarative checks for JSON request/recipe objects, so every 4xx names the
// field at fault. A Schema is data (built-in tables + plugin manifest "parameters"), not code.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace omnihost {

enum class field_kind { Integer, Number, Boolean, String, Array, Object, Any };

struct field_spec {
    field_kind kind = field_kind::Any;
    bool required = false;
    bool nullable = false;      // JSON null accepted (and treated as "not given")
    bool non_blank = false;     // strings: must contain a non-whitespace character
    std::optional<double> min;  // numbers: value; strings: length in bytes; arrays: item count
    std::optional<double> max;
    std::optional<long long> multiple_of; // integers: e.g. 16 for latent-aligned sizes
    std::vector<std::string> allowed; // strings: one of these
    // Extra check on a string; returns an error text ("must match [A-Za-z0-9_-]{1,64}") or "".
    std::string (*check)(const std::string &value) = nullptr;
    nlohmann::json default_value; // filled in when absent (null = no default)
    bool operator_only = false;   // manifest "operator": true: plugin_config/recipes set it, a request never
    std::vector<std::string> aliases; // manifest "alias": other names a body may use for the field
};

// The named string formats a manifest may give ("format": "url"), checked by the host: url
// (http:// or https://, no spaces or quotes), device (cpu, cuda, cuda:N, auto), gpu_list ("0" or
// "0,1"), no_control (no control characters). Returns nullptr for an unknown name.
using string_check = std::string (*)(const std::string &value);
string_check string_format_check(const std::string &name);

using field_schema = std::map<std::string, field_spec>;

struct field_error {
    std::string field;
    std::string message; // full sentence starting with the field name
};

// Checks every member of `object` against `schema`: unknown fields, types, ranges, required
// fields. A member named by a field's alias is renamed to the field first (both given: an error
// naming the alias). A null value means "not given" everywhere (a required field given as null is
// "required"). With fill_defaults, absent or null fields take their default, and nulls without
// a default are removed, so the result holds only real values. `prefix` is prepended to field names in messages ("defaults.").
std::optional<field_error> validate_object(nlohmann::json &object, const field_schema &schema,
                                          bool fill_defaults, const std::string &prefix = "");

// Refuses a field marked operator-only (manifest "operator": true) in what a client sent; the
// operator's recipes and the manifest's default still fill it. Kept apart from validate_object so
// a body with its defaults filled in stays valid.
std::optional<field_error> check_operator_only(const nlohmann::json &sent, const field_schema &schema);

// Checks one value against one spec; `field` is used in the message.
std::optional<field_error> validate_value(const nlohmann::json &value, const field_spec &spec,
                                         const std::string &field);

// Converts a manifest parameter description {"type":"integer","min":1,"max":50,"default":20,
// "enum":[...],"multiple_of":N,"format":"url","alias":"steps","operator":true,"nullable":true,
// "required":false,"max_length":N} into a field_spec (label, help, group, step are the UI's). Unknown "type"
// gives field_kind::Any. Returns std::nullopt with `error` set when the description is malformed.
std::optional<field_spec> spec_from_manifest(const nlohmann::json &description, std::string &error);

// Overlays a manifest's parameter block (one scope) onto the host's wire fields: a wire field the
// manifest restates takes its range/default/multiple_of/enum/aliases (the type stays the host's,
// except that Any takes the manifest's type and an integer may widen to a number); every other
// field is the manifest's own. Malformed entries are skipped and reported through `problems`.
field_schema overlay_manifest_parameters(field_schema base, const nlohmann::json &parameters,
                                   std::vector<std::string> *problems = nullptr);

// Short text for a JSON value's type ("string", "integer", "array", ...), for messages.
std::string json_type_name(const nlohmann::json &value);

} // namespace omnihost
