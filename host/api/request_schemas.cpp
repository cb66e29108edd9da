#include "api/request_schemas.h"

namespace omnihost {

const char *const kModelTypes[5] = {"video", "audio", "image", "tts", "omni"};
const char *const kRunModes[3] = {"subprocess", "container", "remote"};

namespace {

constexpr double kMaxSeed = 4294967295.0; // 2^32-1 unless the plugin's manifest says otherwise
constexpr double kMaxText = 20000;        // prompt-like strings, bytes

FieldSpec text(double max_bytes) {
    FieldSpec spec;
    spec.kind = FieldKind::String;
    spec.max = max_bytes;
    spec.nullable = true;
    return spec;
}

FieldSpec required_text(double max_bytes) {
    FieldSpec spec = text(max_bytes);
    spec.required = true;
    spec.nullable = false;
    spec.non_blank = true;
    return spec;
}

FieldSpec one_of(std::vector<std::string> allowed) {
    FieldSpec spec = text(64);
    spec.allowed = std::move(allowed);
    return spec;
}

FieldSpec with_check(FieldSpec spec, std::string (*check)(const std::string &)) {
    spec.check = check;
    return spec;
}

FieldSpec integer(double min, double max) {
    FieldSpec spec;
    spec.kind = FieldKind::Integer;
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

Schema wire_schema(Task task) {
    FieldSpec job_id = with_check(text(64), check_job_id);
    FieldSpec seed = integer(0, kMaxSeed);
    switch (task) {
    case Task::Image:
    case Task::Video:
        return {{"prompt", required_text(kMaxText)}, {"seed", seed}, {"job_id", job_id}};
    case Task::Audio:
        return {{"text", required_text(kMaxText)}, {"seed", seed}, {"job_id", job_id}};
    case Task::Tts:
        return {{"text", required_text(kMaxText)}, {"job_id", job_id}};
    case Task::Chat: {
        FieldSpec messages;
        messages.kind = FieldKind::Array;
        messages.required = true;
        messages.min = 1;
        messages.max = 512;
        return {{"messages", messages}, {"job_id", job_id}};
    }
    }
    return {};
}

std::optional<FieldError> check_chat_messages(const nlohmann::json &messages) {
    size_t index = 0;
    for (const auto &message : messages) {
        const std::string field = "messages[" + std::to_string(index++) + "]";
        if (!message.is_object() || !message.contains("role") || !message["role"].is_string())
            return FieldError{"messages", field + ": must be an object with a string \"role\""};
        const std::string role = message["role"].get<std::string>();
        if (role != "system" && role != "user" && role != "assistant" && role != "tool")
            return FieldError{"messages", field + ".role: '" + role + "' is not one of system, user, assistant, tool"};
        if (!message.contains("content") || !(message["content"].is_string() || message["content"].is_array()))
            return FieldError{"messages", field + ".content: must be a string or an array of parts"};
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

std::optional<FieldError> check_wire_fields(const nlohmann::json &body, Task task) {
    if (!body.is_object()) return FieldError{"body", "body: must be a JSON object (got " + json_type_name(body) + ")"};
    const std::string name = task_name(task);
    if (body.contains("task") && !body["task"].is_null() && body["task"] != name)
        return FieldError{"task", "task: this endpoint serves task '" + name + "'"};
    for (const auto &[key, spec] : generation_schema(task)) {
        const bool given = body.contains(key) && !body[key].is_null();
        if (!given) {
            if (spec.required) return FieldError{key, key + ": is required"};
            continue;
        }
        if (auto error = validate_value(body[key], spec, key)) return error;
    }
    if (task == Task::Chat) return check_chat_messages(body["messages"]);
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

const Schema &generation_schema(Task task) {
    static const Schema image = wire_schema(Task::Image), video = wire_schema(Task::Video),
                        audio = wire_schema(Task::Audio), tts = wire_schema(Task::Tts),
                        chat = wire_schema(Task::Chat);
    switch (task) {
    case Task::Image: return image;
    case Task::Video: return video;
    case Task::Audio: return audio;
    case Task::Tts: return tts;
    case Task::Chat: return chat;
    }
    return image;
}

Schema task_schema(Task task, const nlohmann::json &manifest_parameters, std::vector<std::string> *problems) {
    const nlohmann::json empty = nlohmann::json::object();
    if (!manifest_parameters.is_object()) return generation_schema(task);
    Schema schema = overlay_manifest_parameters(generation_schema(task), manifest_parameters.value("*", empty), problems);
    return overlay_manifest_parameters(std::move(schema), manifest_parameters.value(task_name(task), empty), problems);
}

const Schema &start_schema() {
    static const Schema schema = {
        {"recipe", text(128)},
        {"model", with_check(text(1024), check_model_id)},
        {"model_type", one_of({"video", "audio", "image", "tts", "omni"})},
        {"run_mode", one_of({"subprocess", "container", "remote"})},
    };
    return schema;
}

Schema start_schema_for(const nlohmann::json &manifest_parameters, std::vector<std::string> *problems) {
    if (!manifest_parameters.is_object()) return start_schema();
    return overlay_manifest_parameters(start_schema(), manifest_parameters.value("start", nlohmann::json::object()), problems);
}

RecipeDefaults split_recipe_defaults(const nlohmann::json &defaults, Task task, const nlohmann::json &manifest_parameters) {
    RecipeDefaults out;
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

std::string request_field_for_default(Task, const std::string &key, const nlohmann::json &task_parameters) {
    std::string name = declared_name(task_parameters, key);
    return name.empty() ? key : name;
}

} // namespace omnihost
