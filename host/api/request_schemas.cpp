#include "api/request_schemas.h"

#include <set>

namespace omnihost {

const char *const kModelTypes[5] = {"video", "audio", "image", "tts", "omni"};
const char *const kRunModes[3] = {"subprocess", "container", "remote"};

namespace {

constexpr double kMaxSeed = 4294967295.0; // 2^32-1: what every backend's generator accepts
constexpr double kMaxText = 20000;        // prompt-like strings, bytes

FieldSpec integer(double min, double max, nlohmann::json fallback = nullptr) {
    FieldSpec spec;
    spec.kind = FieldKind::Integer;
    spec.min = min;
    spec.max = max;
    spec.nullable = true;
    spec.default_value = std::move(fallback);
    return spec;
}

FieldSpec number(double min, double max, nlohmann::json fallback = nullptr) {
    FieldSpec spec = integer(min, max, std::move(fallback));
    spec.kind = FieldKind::Number;
    return spec;
}

FieldSpec boolean(nlohmann::json fallback = nullptr) {
    FieldSpec spec;
    spec.kind = FieldKind::Boolean;
    spec.nullable = true;
    spec.default_value = std::move(fallback);
    return spec;
}

FieldSpec text(double max_bytes, nlohmann::json fallback = nullptr) {
    FieldSpec spec;
    spec.kind = FieldKind::String;
    spec.max = max_bytes;
    spec.nullable = true;
    spec.default_value = std::move(fallback);
    return spec;
}

FieldSpec required_text(double max_bytes) {
    FieldSpec spec = text(max_bytes);
    spec.required = true;
    spec.nullable = false;
    spec.non_blank = true;
    return spec;
}

FieldSpec one_of(std::vector<std::string> allowed, nlohmann::json fallback = nullptr) {
    FieldSpec spec = text(64, std::move(fallback));
    spec.allowed = std::move(allowed);
    return spec;
}

FieldSpec with_check(FieldSpec spec, std::string (*check)(const std::string &)) {
    spec.check = check;
    return spec;
}

std::string check_gpu_device(const std::string &value) {
    if (value.empty()) return "";
    for (char c : value)
        if (!(c >= '0' && c <= '9') && c != ',') return "must be GPU indices like \"0\" or \"0,1\"";
    return "";
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

std::string check_model_id(const std::string &value) {
    if (value.find_first_not_of(" \t") == std::string::npos) return "must not be empty";
    for (unsigned char c : value)
        if (c < 0x20 || c == '"' || c == '\'' || c == '`' || c == '$' || c == ';' || c == '|' ||
            c == '&' || c == '<' || c == '>' || c == ' ')
            return "must be a hub id (owner/name) or a path, without spaces, quotes or shell characters";
    return "";
}

std::string check_device(const std::string &value) {
    if (value == "cpu" || value == "cuda" || value == "auto") return "";
    if (value.rfind("cuda:", 0) == 0 && value.size() > 5 &&
        value.find_first_not_of("0123456789", 5) == std::string::npos)
        return "";
    return "must be cpu, cuda, cuda:N or auto";
}

FieldSpec seed() { return integer(0, kMaxSeed); }

FieldSpec job_id() { return with_check(text(64), check_job_id); }

Schema image_schema() {
    return {
        {"prompt", required_text(kMaxText)},
        {"negative_prompt", text(kMaxText)},
        {"height", integer(64, 2048, 1024)},
        {"width", integer(64, 2048, 1024)},
        {"num_inference_steps", integer(1, 200, 50)},
        {"guidance_scale", number(0, 30, 4.0)},
        {"seed", seed()},
        {"input_image", text(1e12)},
        {"job_id", job_id()},
    };
}

Schema video_schema() {
    return {
        {"prompt", required_text(kMaxText)},
        {"negative_prompt", text(kMaxText)},
        {"duration", integer(1, 16, 4)},
        {"fps", integer(1, 60, 16)},
        {"height", integer(16, 2048, 480)},
        {"width", integer(16, 2048, 640)},
        {"num_inference_steps", integer(1, 200, 30)},
        {"guidance_scale", number(0, 30, 4.0)},
        {"seed", seed()},
        {"job_id", job_id()},
    };
}

Schema audio_schema() {
    return {
        {"text", required_text(kMaxText)},
        {"audio_duration", number(0.1, 47, 10.0)},
        {"num_inference_steps", integer(1, 1000, 50)},
        {"guidance_scale", number(0, 30, 7.0)},
        {"negative_prompt", text(kMaxText, "low quality, average quality")},
        {"seed", seed()},
        {"job_id", job_id()},
    };
}

Schema tts_schema() {
    return {
        {"text", required_text(kMaxText)},
        {"voice", with_check(text(64, "Vivian"), check_no_control)},
        {"speed", number(0.25, 4.0, 1.0)},
        {"instructions", text(2000)},
        {"job_id", job_id()},
    };
}

Schema chat_schema() {
    FieldSpec messages;
    messages.kind = FieldKind::Array;
    messages.required = true;
    messages.min = 1;
    messages.max = 512;
    return {
        {"messages", messages},
        {"temperature", number(0, 2, 0.7)},
        {"max_tokens", integer(1, 32768, 512)},
        {"stream", boolean(true)},
        {"job_id", job_id()},
    };
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

} // namespace

std::optional<FieldError> check_wire_fields(const nlohmann::json &body, Task task) {
    if (!body.is_object()) return FieldError{"body", "body: must be a JSON object (got " + json_type_name(body) + ")"};
    const std::string name = task_name(task);
    if (body.contains("task") && !body["task"].is_null() && body["task"] != name)
        return FieldError{"task", "task: this endpoint serves task '" + name + "'"};
    const Schema &schema = generation_schema(task);
    for (const char *key : {"prompt", "text", "messages", "seed", "job_id"}) {
        auto spec = schema.find(key);
        if (spec == schema.end()) continue;
        const bool given = body.contains(key) && !body[key].is_null();
        if (!given) {
            if (spec->second.required) return FieldError{key, std::string(key) + ": is required"};
            continue;
        }
        if (auto error = validate_value(body[key], spec->second, key)) return error;
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
    static const Schema image = image_schema(), video = video_schema(), audio = audio_schema(),
                        tts = tts_schema(), chat = chat_schema();
    switch (task) {
    case Task::Image: return image;
    case Task::Video: return video;
    case Task::Audio: return audio;
    case Task::Tts: return tts;
    case Task::Chat: return chat;
    }
    return image;
}

const Schema &start_schema() {
    static const Schema schema = [] {
        FieldSpec model = with_check(text(1024), check_model_id);
        FieldSpec model_type = one_of({"video", "audio", "image", "tts", "omni"});
        FieldSpec run_mode = one_of({"subprocess", "container", "remote"}, "subprocess");
        return Schema{
            {"recipe", text(128)},
            {"model", model},
            {"model_type", model_type},
            {"run_mode", run_mode},
            {"host", text(255)}, // accepted for playground compatibility; never used (as upstream)
            {"port", integer(1, 65535, 8000)},
            {"tensor_parallel_size", integer(1, 64)},
            {"gpu_memory_utilization", number(0.05, 1.0)},
            {"gpu_device", with_check(text(64), check_gpu_device)},
            {"accelerator", one_of({"nvidia", "amd"}, "nvidia")},
            {"enable_cpu_offload", boolean()},
            {"enable_torch_compile", boolean()},
            {"venv_path", with_check(text(4096), check_no_control)},
            {"remote_url", with_check(text(2048), check_http_url)},
            {"remote_api_key", with_check(text(4096), check_no_control)},
            {"hf_token", with_check(text(4096), check_no_control)},
            {"use_modelscope", boolean()},
            {"trust_remote_code", boolean()},
            {"vae_use_slicing", boolean()},
            {"vae_use_tiling", boolean()},
            {"flow_shift", number(0, 100)},
            {"enforce_eager", boolean()},
            {"device", with_check(text(32), check_device)},
            {"dtype", one_of({"float32", "float16", "bfloat16"})},
            {"threads", integer(0, 1024)},
            // Sent by the playground UI's buildConfig(); accepted, range-checked, otherwise unused.
            {"default_height", integer(64, 4096)},
            {"default_width", integer(64, 4096)},
            {"num_inference_steps", integer(1, 1000)},
            {"guidance_scale", number(0, 30)},
        };
    }();
    return schema;
}

namespace {

Schema load_settings_schema() {
    return {
        {"gpu_memory_utilization", number(0.05, 1.0)},
        {"enable_cpu_offload", boolean()},
        {"enable_torch_compile", boolean()},
        {"enforce_eager", boolean()},
        {"tensor_parallel_size", integer(1, 64)},
        {"trust_remote_code", boolean()},
        {"device", with_check(text(32), check_device)},
        {"dtype", one_of({"float32", "float16", "bfloat16"})},
        {"threads", integer(0, 1024)},
    };
}

Schema merged(Schema a, const Schema &b) {
    for (const auto &[key, spec] : b) a[key] = spec;
    return a;
}

} // namespace

const Schema &recipe_defaults_schema(const std::string &model_type) {
    static const Schema video = merged(load_settings_schema(), {
        {"height", integer(16, 2048)}, {"width", integer(16, 2048)}, {"duration", integer(1, 16)},
        {"fps", integer(1, 60)}, {"steps", integer(1, 200)}, {"guidance", number(0, 30)},
        {"negative_prompt", text(kMaxText)}, {"seed", seed()}, {"flow_shift", number(0, 100)},
        {"vae_use_slicing", boolean()}, {"vae_use_tiling", boolean()}});
    static const Schema audio = merged(load_settings_schema(), {
        {"duration", number(0.1, 47)}, {"steps", integer(1, 1000)}, {"guidance", number(0, 30)},
        {"negative_prompt", text(kMaxText)}, {"seed", seed()}});
    static const Schema image = merged(load_settings_schema(), {
        {"height", integer(64, 2048)}, {"width", integer(64, 2048)}, {"steps", integer(1, 200)},
        {"guidance", number(0, 30)}, {"negative_prompt", text(kMaxText)}, {"seed", seed()}});
    static const Schema tts = merged(load_settings_schema(), {
        {"voice", text(64)}, {"speed", number(0.25, 4.0)}, {"instructions", text(2000)}});
    static const Schema omni = merged(load_settings_schema(), {
        {"temperature", number(0, 2)}, {"max_tokens", integer(1, 32768)}});
    if (model_type == "video") return video;
    if (model_type == "audio") return audio;
    if (model_type == "image") return image;
    if (model_type == "tts") return tts;
    return omni;
}

const Schema &recipe_hints_schema() {
    static const Schema schema = {
        {"container_limitation", text(256)},
        {"requires_hf_token", boolean()},
        {"vram", text(64)},
        {"note", text(2000)},
        {"supports_image_edit", boolean()},
        // Heights and widths this model accepts are multiples of it (the UI offers only those).
        {"size_multiple", integer(1, 256)},
    };
    return schema;
}

bool is_load_setting(const std::string &key) {
    static const std::set<std::string> keys = {
        "gpu_memory_utilization", "enable_cpu_offload", "enable_torch_compile", "enforce_eager",
        "tensor_parallel_size",   "trust_remote_code",  "device",               "dtype",
        "threads",                "flow_shift",         "vae_use_slicing",      "vae_use_tiling"};
    return keys.count(key) > 0;
}

std::string recipe_key_to_request_field(Task task, const std::string &key) {
    if (key == "steps") return "num_inference_steps";
    if (key == "guidance") return "guidance_scale";
    if (key == "duration" && task == Task::Audio) return "audio_duration";
    return key;
}

std::string request_field_for_default(Task task, const std::string &key, const nlohmann::json &task_parameters) {
    if (task_parameters.is_object()) {
        if (task_parameters.contains(key)) return key;
        for (const auto &[name, description] : task_parameters.items()) {
            if (!description.is_object() || !description.contains("alias")) continue;
            const nlohmann::json &alias = description["alias"];
            if (alias == key) return name;
            if (alias.is_array())
                for (const auto &item : alias)
                    if (item == key) return name;
        }
    }
    return recipe_key_to_request_field(task, key);
}

} // namespace omnihost
