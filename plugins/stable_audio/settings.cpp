#include "settings.h"

#include "plugin_error.h"
#include "settings_json.h"


#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace omnihost::stable_audio {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

using inprocess::find;
using inprocess::parse_object;
using inprocess::get_bool;
using inprocess::get_int;
using inprocess::get_number;
using inprocess::get_string;

std::string seconds_text(double s) {
    std::ostringstream o;
    o.precision(4);
    o << s;
    return o.str() + " s";
}

// The host and the playground spell dtypes as torch does; the pipeline takes fp32 / bf16.
std::string normalise_dtype(const std::string &dtype) {
    if (dtype == "fp32" || dtype == "float32") return "fp32";
    if (dtype == "bf16" || dtype == "bfloat16") return "bf16";
    if (dtype == "fp16" || dtype == "float16")
        throw invalid_field("dtype", "float16 is not supported by the in-process Stable Audio pipeline; use float32 or bfloat16");
    throw invalid_field("dtype", "'" + dtype + "' is not one of fp32, float32, bf16, bfloat16");
}

std::string check_device(const std::string &device) {
    if (device == "auto" || device == "cpu" || device == "cuda") return device;
    if (device.rfind("cuda:", 0) == 0 && device.size() > 5 &&
        device.find_first_not_of("0123456789", 5) == std::string::npos)
        return device;
    throw invalid_field("device", "'" + device + "' is not one of auto, cpu, cuda, cuda:N");
}

}  // namespace

resolved_model resolve_model(const std::string &model, const fs::path &data_dir, const std::vector<fs::path> &extra_roots) {
    return inprocess::resolve_model(model, data_dir, extra_roots, "stable_audio");
}

create_config parse_create_config(const std::string &json_text) {
    const json j = parse_object(json_text, "config");
    create_config c;
    c.data_dir = get_string(j, "data_dir", "");
    c.model_roots = inprocess::read_model_roots(j);
    return c;
}

start_settings parse_start_settings(const std::string &json_text) {
    const json j = parse_object(json_text, "start");
    start_settings s;
    s.model = get_string(j, "model", "");
    if (s.model.empty()) throw invalid_field("model", "is required (a model folder or a hub id)");
    if (s.model.size() > 4096) throw invalid_field("model", "is longer than 4096 characters");
    for (const char ch : s.model)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
            throw invalid_field("model", "must not contain control characters");
    s.recipe = get_string(j, "recipe", "");
    const std::string model_type = get_string(j, "model_type", "audio");
    if (model_type != "audio")
        throw invalid_field("model_type", "this plugin serves audio models, not '" + model_type + "'");
    s.device = check_device(get_string(j, "device", s.device));
    s.dtype = normalise_dtype(get_string(j, "dtype", s.dtype));
    const int64_t threads = get_int(j, "threads", 0);
    if (threads < 0 || threads > 1024) throw invalid_field("threads", "must be in [0, 1024] (0 = every core)");
    s.threads = static_cast<int>(threads);
    s.enable_cpu_offload = get_bool(j, "enable_cpu_offload", s.enable_cpu_offload);
    s.enforce_eager = get_bool(j, "enforce_eager", s.enforce_eager);
    if (find(j, "gpu_memory_utilization")) {
        s.gpu_memory_utilization = get_number(j, "gpu_memory_utilization", 0);
        if (!(*s.gpu_memory_utilization > 0 && *s.gpu_memory_utilization <= 1))
            throw invalid_field("gpu_memory_utilization", "must be in (0, 1]");
    }

    generation_defaults &d = s.defaults;
    // Recipes spell these "duration" / "steps" / "guidance"; requests use the request names.
    if (find(j, "audio_duration")) d.audio_duration = get_number(j, "audio_duration", 0);
    else if (find(j, "duration")) d.audio_duration = get_number(j, "duration", 0);
    if (d.audio_duration && !(*d.audio_duration > 0)) throw invalid_field("duration", "must be > 0 seconds");
    d.num_inference_steps = get_int(j, "num_inference_steps", get_int(j, "steps", d.num_inference_steps));
    if (d.num_inference_steps < 1 || d.num_inference_steps > max_inference_steps)
        throw invalid_field("steps", "must be in [1, " + std::to_string(max_inference_steps) + "]");
    d.guidance_scale = get_number(j, "guidance_scale", get_number(j, "guidance", d.guidance_scale));
    if (d.guidance_scale < 0 || d.guidance_scale > 100) throw invalid_field("guidance", "must be in [0, 100]");
    if (find(j, "negative_prompt")) d.negative_prompt = get_string(j, "negative_prompt", "");
    return s;
}

audio_request parse_audio_request(const std::string &json_text, const generation_defaults &d,
                                  const model_limits &lim) {
    json top = parse_object(json_text, "request");
    top.erase("defaults");  // only top-level fields count for a request
    audio_request r;
    const std::string task = get_string(top, "task", "audio");
    if (task != "audio")
        throw plugin_error(OMNIHOST_NOT_SUPPORTED, "task: this plugin only does 'audio', not '" + task + "'");

    // The playground sends "text"; diffusers calls it "prompt". Either, not two different ones.
    const json *text = find(top, "text");
    const json *prompt = find(top, "prompt");
    if (text && !text->is_string()) throw invalid_field("text", "must be a string");
    if (prompt && !prompt->is_string()) throw invalid_field("prompt", "must be a string");
    if (text && prompt && *text != *prompt)
        throw invalid_field("prompt", "give the prompt once, as \"text\" or as \"prompt\" (they differ)");
    if (!text && !prompt) throw invalid_field("text", "is required (the prompt; \"prompt\" is accepted too)");
    r.prompt = (text ? text : prompt)->get<std::string>();
    if (find(top, "negative_prompt")) r.negative_prompt = get_string(top, "negative_prompt", "");
    else r.negative_prompt = d.negative_prompt;

    r.audio_start_in_s = get_number(top, "audio_start_in_s", 0.0);
    if (r.audio_start_in_s < 0) throw invalid_field("audio_start_in_s", "must be >= 0 seconds");
    const json *duration = find(top, "audio_duration");
    const json *end = find(top, "audio_end_in_s");
    if (duration && end)
        throw invalid_field("audio_end_in_s", "give either audio_duration or audio_end_in_s, not both");
    std::string duration_field = "audio_duration";
    if (end) {
        duration_field = "audio_end_in_s";
        const double e = get_number(top, "audio_end_in_s", 0);
        if (!(e > r.audio_start_in_s))
            throw invalid_field("audio_end_in_s", "must be after audio_start_in_s (" + seconds_text(r.audio_start_in_s) + ")");
        r.audio_duration = e - r.audio_start_in_s;
    } else if (duration) {
        r.audio_duration = get_number(top, "audio_duration", 0);
        if (!(r.audio_duration > 0))
            throw invalid_field("audio_duration", "must be > 0 seconds (got " + seconds_text(r.audio_duration) + ")");
    } else {
        // The playground's 10 s, or the recipe's, never past what the model can make.
        r.audio_duration = d.audio_duration.value_or(10.0);
        if (lim.max_audio_length_s > 0 && r.audio_start_in_s + r.audio_duration > lim.max_audio_length_s)
            r.audio_duration = lim.max_audio_length_s - r.audio_start_in_s;
        if (!(r.audio_duration > 0))
            throw invalid_field("audio_start_in_s", "leaves no audio before this model's limit of " +
                                                        seconds_text(lim.max_audio_length_s));
    }
    // A tiny tolerance: 47.55 typed for Stable Audio Open's 47.5547 s is meant as "the limit".
    if (lim.max_audio_length_s > 0 && r.audio_end_in_s() > lim.max_audio_length_s + 1e-9) {
        throw invalid_field(duration_field,
                            "audio would end at " + seconds_text(r.audio_end_in_s()) + ", past this model's limit of " +
                                seconds_text(lim.max_audio_length_s) + " (its latent length x hop / sampling rate)");
    }

    r.num_inference_steps = get_int(top, "num_inference_steps", d.num_inference_steps);
    if (r.num_inference_steps < 1)
        throw invalid_field("num_inference_steps", "must be > 0 (got " + std::to_string(r.num_inference_steps) + ")");
    if (r.num_inference_steps > max_inference_steps)
        throw invalid_field("num_inference_steps", "must be <= " + std::to_string(max_inference_steps));
    r.guidance_scale = get_number(top, "guidance_scale", d.guidance_scale);
    if (r.guidance_scale < 0 || r.guidance_scale > 100) throw invalid_field("guidance_scale", "must be in [0, 100]");
    r.num_waveforms_per_prompt = get_int(top, "num_waveforms_per_prompt", 1);
    if (r.num_waveforms_per_prompt < 1 || r.num_waveforms_per_prompt > max_waveforms_per_prompt)
        throw invalid_field("num_waveforms_per_prompt",
                            "must be in [1, " + std::to_string(max_waveforms_per_prompt) + "]");

    r.output_format = get_string(top, "output_format", r.output_format);
    if (r.output_format != "wav" && r.output_format != "flac" && r.output_format != "ogg" && r.output_format != "opus")
        throw invalid_field("output_format", "'" + r.output_format + "' is not one of wav, flac, ogg, opus");
    r.peak_mode = get_string(top, "peak_mode", r.peak_mode);
    if (r.peak_mode != "normalize" && r.peak_mode != "limit")
        throw invalid_field("peak_mode", "'" + r.peak_mode + "' is not one of normalize, limit");

    r.seed = inprocess::get_seed(top, r.seed_was_random);
    return r;
}

}  // namespace omnihost::stable_audio
