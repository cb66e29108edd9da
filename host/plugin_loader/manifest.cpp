// Manifest parsing and validation. Every error names the file and the field at fault.
#include "manifest.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/json_limits.h"

namespace omnihost::plugin_loader {

namespace {

using nlohmann::json;

// A manifest is a few KiB of hand-written JSON; a larger file is a mistake or an attack.
constexpr std::size_t max_manifest_bytes = 4u << 20;

constexpr std::string_view model_types[] = {"video", "audio", "image", "tts", "omni"};
constexpr std::string_view run_modes[] = {"subprocess", "container", "remote"};
constexpr std::string_view task_names[] = {"video", "audio", "image", "tts", "chat"};
constexpr std::string_view kinds[] = {"inprocess", "proxy"};
constexpr std::string_view param_types[] = {"integer", "number", "string", "boolean", "array", "object"};

template <size_t N>
bool one_of(std::string_view s, const std::string_view (&set)[N]) {
    return std::find(std::begin(set), std::end(set), s) != std::end(set);
}

template <size_t N>
std::string list(const std::string_view (&set)[N]) {
    std::string out;
    for (size_t i = 0; i < N; ++i) {
        if (i) out += ", ";
        out += set[i];
    }
    return out;
}

// Collects the origin path so every throw reads "<file>: field '<name>': <problem>".
struct checker {
    std::string origin;

    [[noreturn]] void fail(const std::string &field, const std::string &problem) const {
        throw loader_error::manifest(origin + ": field '" + field + "': " + problem, field);
    }

    const json &member(const json &obj, const std::string &key, const std::string &path) const {
        auto it = obj.find(key);
        if (it == obj.end()) fail(path, "missing (required)");
        return *it;
    }

    std::string string_field(const json &obj, const std::string &key, const std::string &path,
                             bool required = true) const {
        auto it = obj.find(key);
        if (it == obj.end()) {
            if (required) fail(path, "missing (required)");
            return {};
        }
        if (!it->is_string()) fail(path, std::string("must be a string, got ") + it->type_name());
        std::string s = it->get<std::string>();
        if (required && s.empty()) fail(path, "must not be empty");
        return s;
    }

    template <size_t N>
    std::string enum_field(const json &obj, const std::string &key, const std::string &path,
                           const std::string_view (&set)[N]) const {
        std::string s = string_field(obj, key, path);
        if (!one_of(s, set)) fail(path, "'" + s + "' must be one of " + list(set));
        return s;
    }

    uint32_t uint_field(const json &obj, const std::string &key, const std::string &path) const {
        const json &v = member(obj, key, path);
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 0xFFFFFFFFLL)
            fail(path, "must be a non-negative integer");
        return static_cast<uint32_t>(v.get<int64_t>());
    }

    const json &array_field(const json &obj, const std::string &key, const std::string &path,
                            bool required) const {
        static const json empty = json::array();
        auto it = obj.find(key);
        if (it == obj.end()) {
            if (required) fail(path, "missing (required)");
            return empty;
        }
        if (!it->is_array()) fail(path, std::string("must be an array, got ") + it->type_name());
        return *it;
    }
};

bool valid_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

// The rest of a field schema: what the UI builds its control from (step, label, help, group,
// alias, ui) and what the host enforces beyond the range (enum, multiple_of, operator-only,
// a default that must itself be valid).
void check_presentation(const checker &ck, const json &schema, const std::string &path, const std::string &type) {
    const bool numeric = type == "integer" || type == "number";
    for (const char *key : {"label", "help", "description", "group"}) {
        if (schema.contains(key) && !schema[key].is_string()) ck.fail(path + "." + key, "must be a string");
    }
    for (const char *key : {"required", "nullable", "operator", "ui"}) {
        if (schema.contains(key) && !schema[key].is_boolean()) ck.fail(path + "." + key, "must be true or false");
    }
    if (schema.contains("step") && (!numeric || !schema["step"].is_number() || schema["step"].get<double>() <= 0))
        ck.fail(path + ".step", "must be a positive number on an integer/number parameter");
    if (schema.contains("multiple_of") &&
        (type != "integer" || !schema["multiple_of"].is_number_integer() || schema["multiple_of"].get<long long>() <= 0))
        ck.fail(path + ".multiple_of", "must be a positive integer on an integer parameter");
    if (schema.contains("alias")) {
        const json &alias = schema["alias"];
        bool ok = alias.is_string() || alias.is_array();
        if (alias.is_array())
            for (const auto &item : alias) ok = ok && item.is_string();
        if (!ok) ck.fail(path + ".alias", "must be a string or an array of strings");
    }
    // Named string formats the host checks (the same names as core/field_schema's
    // string_format_check).
    if (schema.contains("format")) {
        const json &format = schema["format"];
        if (type != "string" || !format.is_string() ||
            (format != "url" && format != "device" && format != "gpu_list" && format != "no_control"))
            ck.fail(path + ".format", "must be one of url, device, gpu_list, no_control on a string parameter");
    }
    // Values the UI offers without the host enforcing them (enum does that): strings or
    // {"value": "...", "label": "..."}.
    if (schema.contains("choices")) {
        const json &choices = schema["choices"];
        bool ok = choices.is_array() && !choices.empty();
        if (ok)
            for (const auto &item : choices)
                ok = ok && (item.is_string() || (item.is_object() && item.contains("value") && item["value"].is_string() &&
                                                 (!item.contains("label") || item["label"].is_string())));
        if (!ok) ck.fail(path + ".choices", "must be a non-empty array of strings or {\"value\", \"label\"} objects");
    }
    if (schema.contains("enum")) {
        if (!schema["enum"].is_array() || schema["enum"].empty()) ck.fail(path + ".enum", "must be a non-empty array of strings");
        for (const auto &item : schema["enum"])
            if (!item.is_string()) ck.fail(path + ".enum", "must be a non-empty array of strings");
    }
    if (!schema.contains("default") || schema["default"].is_null()) return;
    const json &value = schema["default"];
    const bool type_ok = type == "integer"   ? value.is_number_integer()
                         : type == "number"  ? value.is_number()
                         : type == "boolean" ? value.is_boolean()
                         : type == "string"  ? value.is_string()
                         : type == "array"   ? value.is_array()
                         : type == "object"  ? value.is_object()
                                             : true;
    if (!type_ok) ck.fail(path + ".default", "must be of the parameter's type (" + type + ")");
    if (numeric) {
        const double number = value.get<double>();
        if ((schema.contains("min") && number < schema["min"].get<double>()) ||
            (schema.contains("max") && number > schema["max"].get<double>()))
            ck.fail(path + ".default", "is outside min..max");
        if (schema.contains("multiple_of") && value.is_number_integer() &&
            value.get<long long>() % schema["multiple_of"].get<long long>() != 0)
            ck.fail(path + ".default", "is not a multiple of multiple_of");
    }
    if (schema.contains("enum") && value.is_string() &&
        std::find(schema["enum"].begin(), schema["enum"].end(), value) == schema["enum"].end())
        ck.fail(path + ".default", "is not one of enum");
}

void check_parameters(const checker &ck, const json &params) {
    if (!params.is_object()) ck.fail("parameters", std::string("must be an object, got ") + params.type_name());
    for (auto &[scope, fields] : params.items()) {
        const std::string scope_path = "parameters." + scope;
        // A scope is a task, "start" (start-request fields) or "*" (every task).
        if (!is_task(scope) && scope != "start" && scope != "*")
            ck.fail(scope_path, "must be a task (" + list(task_names) + "), \"start\" or \"*\"");
        if (!fields.is_object()) ck.fail(scope_path, "must be an object of field schemas");
        for (auto &[name, schema] : fields.items()) {
            const std::string path = scope_path + "." + name;
            if (!schema.is_object()) ck.fail(path, "must be an object like {\"type\":\"integer\",...}");
            std::string type = ck.enum_field(schema, "type", path + ".type", param_types);
            for (const char *bound : {"min", "max"}) {
                auto it = schema.find(bound);
                if (it == schema.end()) continue;
                if (!it->is_number()) ck.fail(path + "." + bound, "must be a number");
                if (type != "integer" && type != "number")
                    ck.fail(path + "." + bound, "only allowed for integer/number parameters");
            }
            if (schema.contains("min") && schema.contains("max") &&
                schema["min"].get<double>() > schema["max"].get<double>())
                ck.fail(path + ".min", "is greater than max");
            check_presentation(ck, schema, path, type);
        }
    }
}

}  // namespace

bool is_model_type(std::string_view s) { return one_of(s, model_types); }
bool is_run_mode(std::string_view s) { return one_of(s, run_modes); }
bool is_task(std::string_view s) { return one_of(s, task_names); }

bool plugin_manifest::serves(std::string_view model_type, std::string_view run_mode) const {
    return std::any_of(routes.begin(), routes.end(), [&](const plugin_route &r) {
        return r.model_type == model_type && r.run_mode == run_mode;
    });
}

const plugin_refusal *plugin_manifest::refusal_for(std::string_view model_type,
                                                   std::string_view run_mode) const {
    for (const auto &r : refuses)
        if (r.model_type == model_type && r.run_mode == run_mode) return &r;
    return nullptr;
}

plugin_manifest parse_manifest_text(std::string_view text, const std::filesystem::path &origin) {
    checker ck{origin.string()};
    json doc;
    try {
        doc = omnihost::parse_json_bounded(text, {omnihost::json_default_max_depth, max_manifest_bytes});
    } catch (const omnihost::json_limit_error &e) {
        throw loader_error::manifest(ck.origin + ": " + e.what(), "");
    } catch (const json::parse_error &e) {
        throw loader_error::manifest(ck.origin + ": invalid JSON: " + e.what(), "");
    }
    if (!doc.is_object()) throw loader_error::manifest(ck.origin + ": manifest must be a JSON object", "");

    plugin_manifest m;
    m.raw = doc;
    m.manifest_path = origin;
    m.id = ck.string_field(doc, "id", "id");
    if (!valid_id(m.id)) ck.fail("id", "'" + m.id + "' must match [a-z0-9_]{1,64}");
    m.name = ck.string_field(doc, "name", "name");
    m.version = ck.string_field(doc, "version", "version");
    m.description = ck.string_field(doc, "description", "description", false);

    const json &abi = ck.member(doc, "abi", "abi");
    if (!abi.is_object()) ck.fail("abi", "must be an object {\"major\":1,\"minor\":0}");
    m.abi_major = ck.uint_field(abi, "major", "abi.major");
    m.abi_minor = ck.uint_field(abi, "minor", "abi.minor");

    m.library = ck.string_field(doc, "library", "library");
    std::filesystem::path lib(m.library);
    m.library_path = lib.is_absolute() ? lib : origin.parent_path() / lib;
    m.kind = ck.enum_field(doc, "kind", "kind", kinds);

    const json &routes = ck.array_field(doc, "routes", "routes", true);
    if (routes.empty()) ck.fail("routes", "must list at least one {model_type, run_mode}");
    for (size_t i = 0; i < routes.size(); ++i) {
        const std::string p = "routes[" + std::to_string(i) + "]";
        if (!routes[i].is_object()) ck.fail(p, "must be an object {\"model_type\":..,\"run_mode\":..}");
        m.routes.push_back({ck.enum_field(routes[i], "model_type", p + ".model_type", model_types),
                            ck.enum_field(routes[i], "run_mode", p + ".run_mode", run_modes)});
    }
    const json &refuses = ck.array_field(doc, "refuses", "refuses", false);
    for (size_t i = 0; i < refuses.size(); ++i) {
        const std::string p = "refuses[" + std::to_string(i) + "]";
        if (!refuses[i].is_object()) ck.fail(p, "must be an object {model_type, run_mode, reason}");
        plugin_refusal r{ck.enum_field(refuses[i], "model_type", p + ".model_type", model_types),
                         ck.enum_field(refuses[i], "run_mode", p + ".run_mode", run_modes),
                         ck.string_field(refuses[i], "reason", p + ".reason")};
        if (m.serves(r.model_type, r.run_mode))
            ck.fail(p, "refuses " + r.model_type + "/" + r.run_mode + " which it also lists in routes");
        m.refuses.push_back(std::move(r));
    }
    const json &tasks = ck.array_field(doc, "tasks", "tasks", true);
    for (size_t i = 0; i < tasks.size(); ++i) {
        const std::string p = "tasks[" + std::to_string(i) + "]";
        if (!tasks[i].is_string() || !is_task(tasks[i].get<std::string>()))
            ck.fail(p, "must be one of " + list(task_names));
        m.tasks.push_back(tasks[i].get<std::string>());
    }
    if (auto it = doc.find("parameters"); it != doc.end()) {
        check_parameters(ck, *it);
        m.parameters = *it;
    }
    return m;
}

plugin_manifest parse_manifest_file(const std::filesystem::path &file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw loader_error::manifest(file.string() + ": cannot read manifest", "");
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse_manifest_text(ss.str(), file);
}

}  // namespace omnihost::plugin_loader
