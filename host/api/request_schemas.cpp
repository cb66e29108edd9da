#include "api/request_schemas.h"

namespace omnihost {

const char *const kModelTypes[5] = {"video", "audio", "image", "tts", "omni"};
const char *const kRunModes[3] = {"subprocess", "container", "remote"};

namespace {

constexpr double kMaxSeed = 4294967295.0; // 2^32-1 unless the plugin's manifest says otherwise
constexpr double kMaxText = 20000;        // prompt-like strings, bytes

field_spec text(double max_bytes) {
    field_spec spec;
    spec.kind = field_kind::String;
    spec.max = max_bytes;
    spec.nullable = true;
    return spec;
}

field_spec required_text(double max_bytes) {
    field_spec spec = text(max_bytes);
    spec.required = true;
    spec.nullable = false;
    spec.non_blank = true;
    return spec;
}

field_spec one_of(std::vector<std::string> allowed) {
    field_spec spec = text(64);
    spec.allowed = std::move(allowed);
    return spec;
}

field_spec with_check(field_spec spec, std::string (*check)(const std::string &)) {
    spec.check = check;
    return spec;
}

field_spec integer(double min, double max) {
    field_spec spec;
    spec.kind = field_kind::Integer;
    spec.min = min;
    spec.max = max;
    spec.nullable = true;
    return spec;
}

std::string check_model_id(const std::string &value) {
    if (value.find_first_not_of(" \t") == std::string::npos) return "must not be empty";
    for (unsigned char c : value)
        if (c < 0x20 || c == '"' || c == '\'' || c == '`' || c == '$' || c == ';' || c == '|' ||
            c == '&' || c == '<' || c == '>' || c == ' ')
            return "must be a hub id (owner/name) or a path, without spaces, quotes or shell characters";
    return "";
}

field_schema wire_schema(task_kind task) {
    field_spec job_id = with_check(text(64), check_job_id);
    field_spec seed = integer(0, kMaxSeed);
    switch (task) {
    case task_kind::Image:
    case task_kind::Video:
        return {{"prompt", required_text(kMaxText)}, {"seed", seed}, {"job_id", job_id}};
    case task_kind::Audio:
        return {{"text", required_text(kMaxText)}, {"seed", seed}, {"job_id", job_id}};
    case task_kind::Tts:
        return {{"text", required_text(kMaxText)}, {"job_id", job_id}};
    case task_kind::Chat: {
        field_spec messages;
        messages.kind = field_kind::Array;
        messages.required = true;
        messages.min = 1;
        messages.max = 512;
        return {{"messages", messages}, {"job_id", job_id}};
    }
    }
    return {};
}

std::optional<field_error> check_chat_messages(const nlohmann::json &messages) {
    size_t index = 0;
    for (const auto &message : messages) {
        const std::string field = "messages[" + std::to_string(index++) + "]";
        if (!message.is_object() || !message.contains("role") || !message["role"].is_string())
            return field_error{"messages", field + ": must be an object with a string \"role\""};
        const std::string role = message["role"].get<std::string>();
        if (role != "system" && role != "user" && role != "assistant" && role != "tool")
            return field_error{"messages", field + ".role: '" + role + "' is not one of system, user, assistant, tool"};
        if (!message.contains("content") || !(message["content"].is_string() || message["content"].is_array()))
            return field_error{"messages", field + ".content: must be a string or an array of parts"};
    }
    return std::nullopt;
}

// The parameter of `scope` that `key` names, directly or through its "alias"; "" when none.
std::string declared_name(const nlohmann::json &scope, const std::string &key) {
    if (!scope.is_object()) return "";
    if (scope.contains(key)) return key;
    for (const auto &[name, description] : scope.items()) {
        if (!description.is_object() || !description.contains("alias")) continue;
        const nlohmann::json &alias = description["alias"];
        if (alias == key) return name;
        if (alias.is_array())
            for (const auto &item : alias)
                if (item == key) return name;
    }
    return "";
}

} // namespace

std::optional<field_error> check_wire_fields(const nlohmann::json &body, task_kind task) {
    if (!body.is_object()) return field_error{"body", "body: must be a JSON object (got " + json_type_name(body) + ")"};
    const std::string name = task_name(task);
    if (body.contains("task") && !body["task"].is_null() && body["task"] != name)
        return field_error{"task", "task: this endpoint serves task '" + name + "'"};
    for (const auto &[key, spec] : generation_schema(task)) {
        const bool given = body.contains(key) && !body[key].is_null();
        if (!given) {
            if (spec.required) return field_error{key, key + ": is required"};
            continue;
        }
        if (auto error = validate_value(body[key], spec, key)) return error;
    }
    if (task == task_kind::Chat) return check_chat_messages(body["messages"]);
    return std::nullopt;
}

std::string check_job_id(const std::string &value) {
    if (value.empty() || value.size() > 64) return "must match [A-Za-z0-9_-]{1,64}";
    for (char c : value)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return "must match [A-Za-z0-9_-]{1,64}";
    return "";
}

const field_schema &generation_schema(task_kind task) {
    static const field_schema image = wire_schema(task_kind::Image), video = wire_schema(task_kind::Video),
                        audio = wire_schema(task_kind::Audio), tts = wire_schema(task_kind::Tts),
                        chat = wire_schema(task_kind::Chat);
    switch (task) {
    case task_kind::Image: return image;
    case task_kind::Video: return video;
    case task_kind::Audio: return audio;
    case task_kind::Tts: return tts;
    case task_kind::Chat: return chat;
    }
    return image;
}

field_schema task_schema(task_kind task, const nlohmann::json &manifest_parameters, std::vector<std::string> *problems) {
    const nlohmann::json empty = nlohmann::json::object();
    if (!manifest_parameters.is_object()) return generation_schema(task);
    field_schema schema = overlay_manifest_parameters(generation_schema(task), manifest_parameters.value("*", empty), problems);
    return overlay_manifest_parameters(std::move(schema), manifest_parameters.value(task_name(task), empty), problems);
}

const field_schema &start_schema() {
    static const field_schema schema = {
        {"recipe", text(128)},
        {"model", with_check(text(1024), check_model_id)},
        {"model_type", one_of({"video", "audio", "image", "tts", "omni"})},
        {"run_mode", one_of({"subprocess", "container", "remote"})},
    };
    return schema;
}

field_schema start_schema_for(const nlohmann::json &manifest_parameters, std::vector<std::string> *problems) {
    if (!manifest_parameters.is_object()) return start_schema();
    return overlay_manifest_parameters(start_schema(), manifest_parameters.value("start", nlohmann::json::object()), problems);
}

recipe_defaults split_recipe_defaults(const nlohmann::json &defaults, task_kind task, const nlohmann::json &manifest_parameters) {
    recipe_defaults out;
    if (!defaults.is_object()) return out;
    const nlohmann::json empty = nlohmann::json::object();
    const nlohmann::json params = manifest_parameters.is_object() ? manifest_parameters : empty;
    const nlohmann::json task_scope = params.value(task_name(task), empty);
    const nlohmann::json any_scope = params.value("*", empty);
    const nlohmann::json start_scope = params.value("start", empty);
    for (const auto &[key, value] : defaults.items()) {
        std::string name = declared_name(task_scope, key);
        if (name.empty()) name = declared_name(any_scope, key);
        if (!name.empty()) {
            out.generation[name] = value;
            out.source[key] = name;
            continue;
        }
        name = declared_name(start_scope, key);
        if (!name.empty()) {
            out.start[name] = value;
            out.source[key] = name;
            continue;
        }
        out.foreign.push_back(key);
    }
    return out;
}

std::string request_field_for_default(task_kind, const std::string &key, const nlohmann::json &task_parameters) {
    std::string name = declared_name(task_parameters, key);
    return name.empty() ? key : name;
}

} // namespace omnihost
