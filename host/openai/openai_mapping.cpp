#include "openai/openai_mapping.h"

#include <cmath>
#include <set>

#include "slot/runtime_slot.h"

namespace omnihost::openai {
namespace {

using nlohmann::json;

bool given(const json &in, const char *key) { return in.contains(key) && !in[key].is_null(); }

// A positive whole number of at most six digits without a leading zero ("640"), else -1.
int small_positive(const std::string &text) {
    if (text.empty() || text.size() > 6 || text[0] == '0' || text.find_first_not_of("0123456789") != std::string::npos)
        return -1;
    return std::stoi(text);
}

// Copies every field but those in `skip`; unknown ones reach the validator, which names them.
void copy_except(const json &in, json &out, const std::set<std::string> &skip) {
    for (const auto &[key, value] : in.items())
        if (!skip.count(key)) out[key] = value;
}

// "WxH" -> width/height.
std::optional<api_error> apply_size(const json &in, json &out) {
    if (!given(in, "size")) return std::nullopt;
    if (!in["size"].is_string()) return api_error{400, "size: must be a string like \"640x480\"", "size"};
    const std::string size = in["size"].get<std::string>();
    if (size == "auto") return std::nullopt;
    const auto x = size.find('x');
    const int width = x == std::string::npos ? -1 : small_positive(size.substr(0, x));
    const int height = x == std::string::npos ? -1 : small_positive(size.substr(x + 1));
    if (width < 0 || height < 0)
        return api_error{400, "size: must be WIDTHxHEIGHT in pixels, like \"640x480\" (got \"" + size.substr(0, 40) + "\")", "size"};
    out["width"] = width;
    out["height"] = height;
    return std::nullopt;
}

std::optional<api_error> only_wav(const json &in) {
    if (!given(in, "response_format")) return std::nullopt;
    if (in["response_format"] != "wav")
        return api_error{400, "response_format: this host answers wav (got " + in["response_format"].dump() + ")",
                        "response_format"};
    return std::nullopt;
}

// The text of a chat message's content: a string, or the "text" parts of an array.
std::string content_text(const json &content) {
    if (content.is_string()) return content.get<std::string>();
    std::string out;
    if (!content.is_array()) return out;
    for (const auto &part : content) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
            continue;
        if (!out.empty()) out += ' ';
        out += part["text"].get<std::string>();
    }
    return out;
}

} // namespace

std::string client_field(const json &in, const std::string &field) {
    static const std::pair<const char *, const char *> renamed[] = {
        {"image", "input_reference"}, {"image", "image_reference"}, {"text", "input"}, {"audio_duration", "audio_length"},
        {"audio_start_in_s", "audio_start"}, {"duration", "seconds"}, {"width", "size"}, {"height", "size"}};
    for (const auto &[ours, theirs] : renamed)
        if (field == ours && given(in, theirs) && !given(in, ours)) return theirs;
    // The prompt of the audio routes is called "input" there, sent or not.
    if (field == "text" && !given(in, "text")) return "input";
    return field;
}

api_error in_client_terms(const json &in, api_error error) {
    const std::string theirs = client_field(in, error.field);
    if (theirs == error.field) return error;
    if (error.message.rfind(error.field + ":", 0) == 0)
        error.message = theirs + " (" + error.field + ")" + error.message.substr(error.field.size());
    error.field = theirs;
    return error;
}

bool plan_accepts(const start_plan &plan, task_kind task, const std::string &field) {
    if (generation_schema(task).count(field)) return true;
    for (const char *scope : {"*", task_name(task)}) {
        const auto it = plan.plugin_parameters.find(scope);
        if (it != plan.plugin_parameters.end() && it->is_object() && it->contains(field)) return true;
    }
    return false;
}

std::optional<api_error> check_model_field(const json &in, const start_plan *plan) {
    if (!given(in, "model")) return std::nullopt;
    if (!in["model"].is_string()) return api_error{400, "model: must be a string", "model"};
    const std::string model = in["model"].get<std::string>();
    if (!plan) return std::nullopt; // no model loaded: the validator answers 503
    if (model == plan->model || (!plan->recipe_id.empty() && model == plan->recipe_id)) return std::nullopt;
    return api_error{404, "The model `" + model.substr(0, 200) + "` does not exist (this host serves `" + plan->model + "`).",
                    "model"};
}

json form_value(const std::string &name, const std::string &text) {
    static const std::set<std::string> free_text = {"prompt", "negative_prompt", "model", "size", "seconds",
                                                    "user", "input", "voice", "instructions", "job_id"};
    if (free_text.count(name)) return text;
    if (text == "true") return true;
    if (text == "false") return false;
    if (!text.empty() && text.find_first_not_of("-0123456789") == std::string::npos && text.size() < 19) {
        try {
            return std::stoll(text);
        } catch (...) {
        }
    }
    if (!text.empty() && text.find_first_not_of("-+.eE0123456789") == std::string::npos) {
        try {
            size_t used = 0;
            const double value = std::stod(text, &used);
            if (used == text.size() && std::isfinite(value)) return value;
        } catch (...) {
        }
    }
    return text;
}

std::optional<api_error> map_video_request(const json &in, const start_plan *plan, json &out) {
    out = json::object();
    copy_except(in, out, {"model", "user", "seconds", "size", "num_frames", "input_reference", "image_reference"});
    // The first frame: a file part (its data URL here) or {"image_url": "data:..."}; the host's
    // image checks (api/image_inputs) then decode it against what the loaded model takes.
    if (given(in, "input_reference") && given(in, "image_reference"))
        return api_error{400, "image_reference: give either input_reference or image_reference", "image_reference"};
    if (given(in, "input_reference")) {
        if (!in["input_reference"].is_string())
            return api_error{400, "input_reference: must be an image file (or its data URL)", "input_reference"};
        out["image"] = in["input_reference"];
    }
    if (given(in, "image_reference")) {
        const json &ref = in["image_reference"];
        const json url = ref.is_object() ? ref.value("image_url", json()) : ref;
        if (!url.is_string() || url.get<std::string>().rfind("data:image/", 0) != 0)
            return api_error{400, "image_reference: must be {\"image_url\": \"data:image/...;base64,...\"}", "image_reference"};
        out["image"] = url;
    }
    if (given(in, "seconds")) {
        const json &s = in["seconds"];
        long long seconds = 0;
        if (s.is_number_integer()) seconds = s.get<long long>();
        else if (s.is_string() && small_positive(s.get<std::string>()) > 0)
            seconds = small_positive(s.get<std::string>());
        else return api_error{400, "seconds: must be a positive whole number of seconds, like \"4\"", "seconds"};
        if (seconds < 1) return api_error{400, "seconds: must be a positive whole number of seconds, like \"4\"", "seconds"};
        out["duration"] = seconds;
    }
    if (auto error = apply_size(in, out)) return error;
    if (given(in, "num_frames")) {
        // A model whose manifest takes num_frames gets it; for one that takes only duration x fps,
        // a frame count that is exactly seconds x fps says nothing new and is dropped.
        if (!plan || plan_accepts(*plan, task_kind::Video, "num_frames")) {
            out["num_frames"] = in["num_frames"];
        } else if (!(in["num_frames"].is_number_integer() && out.contains("duration") && out.contains("fps") &&
                     out["fps"].is_number_integer() &&
                     in["num_frames"].get<long long>() == out["duration"].get<long long>() * out["fps"].get<long long>())) {
            return api_error{400, "num_frames: the loaded model takes seconds and fps, not a frame count", "num_frames"};
        }
    }
    return std::nullopt;
}

std::optional<api_error> map_image_request(const json &in, json &out) {
    out = json::object();
    copy_except(in, out, {"model", "user", "n", "size", "response_format"});
    if (given(in, "n") && in["n"] != 1)
        return api_error{400, "n: this host returns one image per request (got " + in["n"].dump() + ")", "n"};
    if (given(in, "response_format") && in["response_format"] != "b64_json")
        return api_error{400, "response_format: this host answers b64_json (got " + in["response_format"].dump() + ")",
                        "response_format"};
    return apply_size(in, out);
}

std::optional<api_error> map_speech_request(const json &in, json &out) {
    out = json::object();
    copy_except(in, out, {"model", "user", "input", "response_format"});
    if (given(in, "input")) out["text"] = in["input"];
    return only_wav(in);
}

std::optional<api_error> map_audio_request(const json &in, const start_plan *plan, json &out) {
    out = json::object();
    copy_except(in, out, {"model", "user", "input", "response_format", "audio_length", "audio_start", "speed"});
    if (given(in, "input")) out["text"] = in["input"];
    if (given(in, "audio_length")) out["audio_duration"] = in["audio_length"];
    if (given(in, "audio_start") && in["audio_start"] != 0 && in["audio_start"] != 0.0) {
        if (plan && !plan_accepts(*plan, task_kind::Audio, "audio_start_in_s"))
            return api_error{400, "audio_start: the loaded model generates from 0 s only", "audio_start"};
        out["audio_start_in_s"] = in["audio_start"];
    }
    if (given(in, "speed") && in["speed"] != 1 && in["speed"] != 1.0)
        return api_error{400, "speed: this host generates at speed 1.0 only", "speed"};
    return only_wav(in);
}

std::optional<api_error> map_chat_request(const json &in, json &out) {
    out = json::object();
    copy_except(in, out, {"model", "user", "stream", "stream_options", "n", "max_completion_tokens", "extra_body"});
    if (given(in, "n") && in["n"] != 1) return api_error{400, "n: this host returns one choice", "n"};
    if (given(in, "max_completion_tokens") && !given(in, "max_tokens")) out["max_tokens"] = in["max_completion_tokens"];
    if (given(in, "extra_body")) return api_error{400, "extra_body: generation parameters are for image models", "extra_body"};
    return std::nullopt;
}

std::optional<api_error> map_diffusion_chat_request(const json &in, json &out) {
    out = json::object();
    if (!given(in, "messages") || !in["messages"].is_array() || in["messages"].empty())
        return api_error{400, "messages: must be a non-empty array", "messages"};
    std::string prompt;
    for (const auto &message : in["messages"]) {
        if (!message.is_object() || message.value("role", "") != "user" || !message.contains("content")) continue;
        const std::string text = content_text(message["content"]);
        if (!text.empty()) {
            if (!prompt.empty()) prompt += ' ';
            prompt += text;
        }
        if (!message["content"].is_array()) continue;
        for (const auto &part : message["content"]) {
            if (!part.is_object() || part.value("type", "") != "image_url") continue;
            const json url = part.contains("image_url") && part["image_url"].is_object()
                                 ? part["image_url"].value("url", json()) : json();
            if (!url.is_string() || url.get<std::string>().rfind("data:image/", 0) != 0)
                return api_error{400, "messages: an image_url must be a data:image/... URL", "messages"};
            out["input_image"] = url;
        }
    }
    out["prompt"] = prompt;
    json params = json::object();
    if (given(in, "extra_body")) {
        if (!in["extra_body"].is_object()) return api_error{400, "extra_body: must be an object", "extra_body"};
        params = in["extra_body"];
    }
    // The OpenAI SDK flattens extra_body into the top level; both are read, extra_body wins.
    for (const char *key : {"height", "width", "size", "num_inference_steps", "guidance_scale", "seed", "negative_prompt",
                            "true_cfg_scale", "num_outputs_per_prompt"})
        if (given(in, key) && !params.contains(key)) params[key] = in[key];
    if (params.contains("num_outputs_per_prompt")) {
        if (params["num_outputs_per_prompt"] != 1)
            return api_error{400, "num_outputs_per_prompt: this host returns one image per request", "num_outputs_per_prompt"};
        params.erase("num_outputs_per_prompt");
    }
    if (auto error = apply_size(params, out)) return error;
    params.erase("size");
    for (const auto &[key, value] : params.items())
        if (!out.contains(key)) out[key] = value;
    return std::nullopt;
}

} // namespace omnihost::openai
