#include "core/field_schema.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace omnihost {
namespace {

std::string format_number(double value) {
    if (std::floor(value) == value && std::fabs(value) < 1e15) {
        std::ostringstream out;
        out << static_cast<long long>(value);
        return out.str();
    }
    std::ostringstream out;
    out << value;
    return out.str();
}

const char *kind_name(field_kind kind) {
    switch (kind) {
    case field_kind::Integer: return "an integer";
    case field_kind::Number: return "a number";
    case field_kind::Boolean: return "a boolean";
    case field_kind::String: return "a string";
    case field_kind::Array: return "an array";
    case field_kind::Object: return "an object";
    case field_kind::Any: return "a value";
    }
    return "a value";
}

bool kind_matches(const nlohmann::json &value, field_kind kind) {
    switch (kind) {
    case field_kind::Integer: return value.is_number_integer();
    case field_kind::Number: return value.is_number();
    case field_kind::Boolean: return value.is_boolean();
    case field_kind::String: return value.is_string();
    case field_kind::Array: return value.is_array();
    case field_kind::Object: return value.is_object();
    case field_kind::Any: return true;
    }
    return false;
}

std::string range_text(const field_spec &spec) {
    if (spec.min && spec.max) return "between " + format_number(*spec.min) + " and " + format_number(*spec.max);
    if (spec.min) return "at least " + format_number(*spec.min);
    if (spec.max) return "at most " + format_number(*spec.max);
    return "";
}

bool is_blank(const std::string &text) {
    return text.find_first_not_of(" \t\r\n\f\v") == std::string::npos;
}

std::string check_http_url(const std::string &value) {
    if (value.rfind("http://", 0) == 0 || value.rfind("https://", 0) == 0) {
        if (value.find_first_of(" \t\r\n\"'`") != std::string::npos) return "must not contain spaces or quotes";
        return "";
    }
    return "must start with http:// or https://";
}

std::string check_no_control(const std::string &value) {
    for (unsigned char c : value)
        if (c < 0x20) return "must not contain control characters";
    return "";
}

std::string check_device(const std::string &value) {
    if (value == "cpu" || value == "cuda" || value == "auto") return "";
    if (value.rfind("cuda:", 0) == 0 && value.size() > 5 &&
        value.find_first_not_of("0123456789", 5) == std::string::npos)
        return "";
    return "must be cpu, cuda, cuda:N or auto";
}

std::string check_gpu_list(const std::string &value) {
    if (value.empty()) return "";
    for (char c : value)
        if (!(c >= '0' && c <= '9') && c != ',') return "must be GPU indices like \"0\" or \"0,1\"";
    return "";
}

// Renames members given under a field's alias; an alias given beside its field is an error.
std::optional<field_error> resolve_aliases(nlohmann::json &object, const field_schema &schema, const std::string &prefix) {
    for (const auto &[name, spec] : schema) {
        for (const auto &alias : spec.aliases) {
            if (alias == name || !object.contains(alias) || schema.count(alias)) continue;
            if (object.contains(name) && !object[name].is_null() && !object[alias].is_null())
                return field_error{prefix + alias, prefix + alias + ": is another name for " + name + ", which is also given"};
            nlohmann::json value = std::move(object[alias]);
            object.erase(alias);
            if (!value.is_null() || !object.contains(name)) object[name] = std::move(value);
        }
    }
    return std::nullopt;
}

} // namespace

string_check string_format_check(const std::string &name) {
    if (name == "url") return check_http_url;
    if (name == "device") return check_device;
    if (name == "gpu_list") return check_gpu_list;
    if (name == "no_control") return check_no_control;
    return nullptr;
}

std::string json_type_name(const nlohmann::json &value) {
    if (value.is_null()) return "null";
    if (value.is_boolean()) return "boolean";
    if (value.is_number_integer()) return "integer";
    if (value.is_number()) return "number";
    if (value.is_string()) return "string";
    if (value.is_array()) return "array";
    if (value.is_object()) return "object";
    return "value";
}

std::optional<field_error> validate_value(const nlohmann::json &value, const field_spec &spec,
                                         const std::string &field) {
    if (value.is_null()) {
        if (spec.nullable && !spec.required) return std::nullopt;
        return field_error{field, field + ": must be " + kind_name(spec.kind) + ", not null"};
    }
    if (!kind_matches(value, spec.kind))
        return field_error{field, field + ": must be " + std::string(kind_name(spec.kind)) +
                                     " (got " + json_type_name(value) + ")"};
    if (spec.kind == field_kind::Integer || spec.kind == field_kind::Number) {
        const double number = value.get<double>();
        if ((spec.min && number < *spec.min) || (spec.max && number > *spec.max))
            return field_error{field, field + ": must be " + range_text(spec) + " (got " + value.dump() + ")"};
        if (spec.multiple_of && *spec.multiple_of > 0 && value.is_number_integer() &&
            value.get<long long>() % *spec.multiple_of != 0)
            return field_error{field, field + ": must be a multiple of " + std::to_string(*spec.multiple_of) +
                                         " (got " + value.dump() + ")"};
    } else if (spec.kind == field_kind::String) {
        const auto &text = value.get_ref<const std::string &>();
        if (spec.non_blank && is_blank(text))
            return field_error{field, field + ": must not be empty"};
        const double length = static_cast<double>(text.size());
        if ((spec.min && length < *spec.min) || (spec.max && length > *spec.max))
            return field_error{field, field + ": length must be " + range_text(spec) + " bytes (got " +
                                         std::to_string(text.size()) + ")"};
        if (!spec.allowed.empty()) {
            bool found = false;
            for (const auto &candidate : spec.allowed) found = found || candidate == text;
            if (!found) {
                std::string list;
                for (const auto &candidate : spec.allowed) list += (list.empty() ? "" : ", ") + candidate;
                return field_error{field, field + ": '" + text + "' is not one of " + list};
            }
        }
        if (spec.check) {
            if (std::string problem = spec.check(text); !problem.empty())
                return field_error{field, field + ": " + problem};
        }
    } else if (spec.kind == field_kind::Array) {
        const double count = static_cast<double>(value.size());
        if ((spec.min && count < *spec.min) || (spec.max && count > *spec.max))
            return field_error{field, field + ": must hold " + range_text(spec) + " items (got " +
                                         std::to_string(value.size()) + ")"};
    }
    return std::nullopt;
}

std::optional<field_error> validate_object(nlohmann::json &object, const field_schema &schema,
                                          bool fill_defaults, const std::string &prefix) {
    if (!object.is_object()) {
        const std::string name = prefix.empty() ? "body" : prefix.substr(0, prefix.size() - 1);
        return field_error{name, name + ": must be a JSON object (got " + json_type_name(object) + ")"};
    }
    if (auto error = resolve_aliases(object, schema, prefix)) return error;
    for (const auto &[key, value] : object.items()) {
        auto it = schema.find(key);
        if (it == schema.end()) return field_error{prefix + key, prefix + key + ": unknown field"};
        if (value.is_null()) continue; // null means "not given": a required one is named below
        if (auto error = validate_value(value, it->second, prefix + key)) return error;
    }
    for (const auto &[key, spec] : schema) {
        const bool present = object.contains(key) && !object[key].is_null();
        if (present) continue;
        if (spec.required) return field_error{prefix + key, prefix + key + ": is required"};
        // Filling defaults hands the result on: a null left there would reach the consumer as a
        // value, so it becomes the default or disappears.
        if (!fill_defaults) continue;
        if (!spec.default_value.is_null()) object[key] = spec.default_value;
        else object.erase(key);
    }
    return std::nullopt;
}

std::optional<field_error> check_operator_only(const nlohmann::json &sent, const field_schema &schema) {
    if (!sent.is_object()) return std::nullopt;
    for (const auto &[key, value] : sent.items()) {
        if (value.is_null()) continue;
        for (const auto &[name, spec] : schema) {
            if (!spec.operator_only) continue;
            const bool alias = std::find(spec.aliases.begin(), spec.aliases.end(), key) != spec.aliases.end();
            if (name == key || alias) return field_error{key, key + ": is set by the operator only, not by a request"};
        }
    }
    return std::nullopt;
}

std::optional<field_spec> spec_from_manifest(const nlohmann::json &description, std::string &error) {
    if (!description.is_object()) {
        error = "must be an object";
        return std::nullopt;
    }
    field_spec spec;
    const std::string type = description.value("type", std::string("any"));
    if (type == "integer") spec.kind = field_kind::Integer;
    else if (type == "number" || type == "float") spec.kind = field_kind::Number;
    else if (type == "boolean" || type == "bool") spec.kind = field_kind::Boolean;
    else if (type == "string") spec.kind = field_kind::String;
    else if (type == "array") spec.kind = field_kind::Array;
    else if (type == "object") spec.kind = field_kind::Object;
    else spec.kind = field_kind::Any;
    for (const char *bound : {"min", "max", "max_length", "min_length", "multiple_of"}) {
        if (description.contains(bound) && !description[bound].is_number()) {
            error = std::string("'") + bound + "' must be a number";
            return std::nullopt;
        }
    }
    if (description.contains("min")) spec.min = description["min"].get<double>();
    if (description.contains("max")) spec.max = description["max"].get<double>();
    if (description.contains("multiple_of")) spec.multiple_of = description["multiple_of"].get<long long>();
    if (spec.kind == field_kind::String) {
        if (description.contains("min_length")) spec.min = description["min_length"].get<double>();
        if (description.contains("max_length")) spec.max = description["max_length"].get<double>();
    }
    if (description.contains("enum")) {
        if (!description["enum"].is_array()) {
            error = "'enum' must be an array of strings";
            return std::nullopt;
        }
        for (const auto &item : description["enum"]) {
            if (!item.is_string()) {
                error = "'enum' must be an array of strings";
                return std::nullopt;
            }
            spec.allowed.push_back(item.get<std::string>());
        }
    }
    spec.nullable = description.value("nullable", true);
    spec.required = description.value("required", false);
    spec.operator_only = description.value("operator", false);
    if (description.contains("default")) spec.default_value = description["default"];
    if (description.contains("format")) {
        const nlohmann::json &format = description["format"];
        spec.check = format.is_string() ? string_format_check(format.get<std::string>()) : nullptr;
        if (!spec.check) {
            error = "'format' must be one of url, device, gpu_list, no_control";
            return std::nullopt;
        }
    }
    if (description.contains("alias")) {
        const nlohmann::json &alias = description["alias"];
        if (alias.is_string()) spec.aliases.push_back(alias.get<std::string>());
        else if (alias.is_array())
            for (const auto &item : alias)
                if (item.is_string()) spec.aliases.push_back(item.get<std::string>());
    }
    return spec;
}

field_schema overlay_manifest_parameters(field_schema base, const nlohmann::json &parameters,
                                   std::vector<std::string> *problems) {
    if (!parameters.is_object()) return base;
    for (const auto &[name, description] : parameters.items()) {
        std::string error;
        auto spec = spec_from_manifest(description, error);
        if (!spec) {
            if (problems) problems->push_back(name + ": " + error);
            continue;
        }
        auto it = base.find(name);
        if (it == base.end()) {
            base.emplace(name, *spec);
            continue;
        }
        // A known field keeps its built-in type (the host relies on it) but takes the plugin's
        // tighter or looser range and default: the plugin knows what its model accepts.
        field_spec &known = it->second;
        if (known.kind == field_kind::Any) known.kind = spec->kind;
        if (known.kind == field_kind::Integer && spec->kind == field_kind::Number) known.kind = field_kind::Number;
        if (spec->multiple_of) known.multiple_of = spec->multiple_of;
        if (spec->min) known.min = spec->min;
        if (spec->max) known.max = spec->max;
        if (!spec->allowed.empty()) known.allowed = spec->allowed;
        if (!spec->default_value.is_null()) known.default_value = spec->default_value;
        if (spec->operator_only) known.operator_only = true;
        if (spec->check) known.check = spec->check;
        if (spec->required) known.required = true;
        known.aliases.insert(known.aliases.end(), spec->aliases.begin(), spec->aliases.end());
    }
    return base;
}

} // namespace omnihost
