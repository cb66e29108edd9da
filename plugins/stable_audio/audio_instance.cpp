#include "audio_instance.h"

#include "audio_output.h"
#include "settings.h"
#include "model_download.h"
#include "plugin_error.h"

#include "common/json_limits.h"
#include "core/device_memory.h"
#include "core/model_error.h"
#include "core/runtime.h"
#include "stable_audio_pipeline/stable_audio_pipeline.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <sstream>

namespace omnihost::stable_audio {
namespace {

using json = nlohmann::json;
namespace sa = models::stable_audio;

using inprocess::job_cancelled;
using inprocess::job_progress;

// Jobs report one phase vocabulary whatever the model (encode, denoise, decode, export: the video
// plugin's), so the UI and the log bus need no per-model table.
std::string job_phase(const std::string &pipeline_phase) {
    if (pipeline_phase == "denoising") return "denoise";
    if (pipeline_phase == "decoding") return "decode";
    if (pipeline_phase == "encoding") return "encode";
    return pipeline_phase;
}

std::string shape_text(const at::Tensor &t) {
    std::string s = "[";
    for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
    return s + "]";
}

std::string on_off(bool b) { return b ? "on" : "off"; }

std::string format_number(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

json settings_json(const start_settings &s) {
    return {{"model", s.model},           {"device", s.device},
            {"dtype", s.dtype},           {"threads", s.threads},
            {"enable_cpu_offload", s.enable_cpu_offload}, {"enforce_eager", s.enforce_eager}};
}

// The device `setting` names, resolved as the pipeline will resolve it; a device that is not there
// is a start error naming the `device` setting.
std::string resolve_device(const std::string &setting) {
    try {
        return models::parse_device(setting).str();
    } catch (const models::model_error &e) {
        throw plugin_error(OMNIHOST_INVALID_ARGUMENT, e.what());  // "device: '...' ..."
    }
}

sa::pipeline_settings to_pipeline_settings(const start_settings &s) {
    sa::pipeline_settings p;
    p.device = s.device;
    p.dtype = s.dtype;
    p.threads = s.threads;
    p.enable_cpu_offload = s.enable_cpu_offload;
    p.enforce_eager = s.enforce_eager;
    return p;
}

}  // namespace

audio_instance::audio_instance(const omnihost_host *host, create_config config)
    : core_(host, "stable_audio"), config_(std::move(config)) {}

audio_instance::~audio_instance() { stop(); }

void audio_instance::start(const std::string &start_json, const omnihost_job *job) {
    const start_settings s = parse_start_settings(start_json);
    inprocess::download_if_missing(s.model, config_.data_dir, config_.model_roots, "stable_audio", core_, job);
    const resolved_model where = resolve_model(s.model, config_.data_dir, config_.model_roots);
    const std::string label = where.label;
    const std::string device = resolve_device(s.device);
    stop();  // a second start replaces the loaded model
    settings_ = s;  // what an out-of-memory message advises from, before the load can fail
    device_ = device;
    memory_.begin(device);
    set_state("loading", "loading " + label);
    log(OMNIHOST_LOG_INFO, "loading " + s.model + " from " + where.dir.string());
    // Each setting as requested; the pipeline logs what it really applied (device found, threads).
    log(OMNIHOST_LOG_INFO, "settings: device=" + s.device + " dtype=" + s.dtype + " threads=" +
                               (s.threads > 0 ? std::to_string(s.threads) : std::string("all cores")) +
                               " enable_cpu_offload=" + on_off(s.enable_cpu_offload) +
                               " enforce_eager=" + on_off(s.enforce_eager));
    if (s.gpu_memory_utilization)
        log(OMNIHOST_LOG_INFO, "gpu_memory_utilization=" + format_number(*s.gpu_memory_utilization) +
                                   " is a vLLM setting: the in-process pipeline reserves no GPU memory up front, "
                                   "it allocates what the model uses");

    sa::load_callbacks cb;
    cb.log = [this](sa::log_level level, const std::string &m) {
        log(level == sa::log_level::warn ? OMNIHOST_LOG_WARN
            : level == sa::log_level::debug ? OMNIHOST_LOG_DEBUG : OMNIHOST_LOG_INFO, m);
    };
    cb.progress = [job](int step, int total, const std::string &what) { job_progress(job, step, total, "load", what); };
    cb.is_cancelled = [job] { return job_cancelled(job); };
    try {
        pipeline_ = sa::stable_audio_pipeline::load(where.dir, to_pipeline_settings(s), cb);
    } catch (...) {
        pipeline_.reset();
        memory_.clear();
        models::release_cached_memory(device);
        set_state("stopped", "load failed");
        throw;
    }
    const auto &info = pipeline_->info();
    if (!info.has_text_encoder) {
        pipeline_.reset();
        memory_.clear();
        set_state("stopped", "load failed");
        throw invalid_field("model", "'" + s.model + "' has no text_encoder/tokenizer, so text prompts cannot be encoded "
                                     "(model_index.json lists them as null)");
    }
    model_label_ = label;
    log(OMNIHOST_LOG_INFO, memory_.end_load());
    log(OMNIHOST_LOG_INFO, "ready: " + std::to_string(info.audio_channels) + " channel(s) at " +
                               std::to_string(info.sampling_rate) + " Hz, up to " +
                               format_number(std::floor(info.max_audio_length_s * 100) / 100) + " s, on " + info.device +
                               " (" + info.dtype + ", " + std::to_string(info.threads) + " threads)");
    set_state("ready", "model loaded: " + label);
}

omnihost_result *audio_instance::generate(const std::string &request_json, const omnihost_job *job) {
    if (!pipeline_) throw plugin_error(OMNIHOST_UNAVAILABLE, "no model loaded: call start first");
    return memory_.run_job(device_, [&] { return generate_loaded(request_json, job); });
}

omnihost_result *audio_instance::generate_loaded(const std::string &request_json, const omnihost_job *job) {
    const auto &info = pipeline_->info();
    const audio_request r = parse_audio_request(request_json, settings_.defaults, {info.max_audio_length_s});
    const auto t0 = std::chrono::steady_clock::now();
    log(OMNIHOST_LOG_INFO, "generate " + format_number(r.audio_duration) + " s from " + format_number(r.audio_start_in_s) +
                               " s, " + std::to_string(r.num_inference_steps) + " steps, guidance " +
                               format_number(r.guidance_scale) + ", " + std::to_string(r.num_waveforms_per_prompt) +
                               " waveform(s), seed " + std::to_string(r.seed) + (r.seed_was_random ? " (random)" : ""));

    sa::generate_request req;
    req.prompt = r.prompt;
    req.negative_prompt = r.negative_prompt;
    req.audio_start_in_s = r.audio_start_in_s;
    req.audio_end_in_s = r.audio_end_in_s();
    req.num_inference_steps = r.num_inference_steps;
    req.guidance_scale = r.guidance_scale;
    req.num_waveforms_per_prompt = r.num_waveforms_per_prompt;
    req.seed = r.seed;

    sa::generate_callbacks cb;
    cb.progress = [job](int step, int total, const std::string &pipeline_phase) {
        const std::string phase = job_phase(pipeline_phase);
        job_progress(job, step, total, phase.c_str(),
                     phase == "denoise" ? "step " + std::to_string(step) + "/" + std::to_string(total) : "");
    };
    cb.is_cancelled = [job] { return job_cancelled(job); };
    sa::generate_output out = pipeline_->generate(req, cb);
    const json memory_meta = memory_.end_job();
    if (job_cancelled(job)) throw sa::generation_cancelled("generation cancelled");

    job_progress(job, 0, 1, "export", "encoding " + r.output_format);
    const at::Tensor audio = out.audio.to(at::kFloat).contiguous();
    if (audio.dim() != 3 || audio.size(0) < 1 || audio.size(2) < 1)
        throw plugin_error(OMNIHOST_INTERNAL, "the pipeline returned audio of shape " + shape_text(audio) +
                                                  " (expected [waveforms, channels, samples])");
    output_request o;
    o.format = r.output_format;
    o.peak_mode = r.peak_mode;
    o.sampling_rate = out.sampling_rate;
    o.tags = {{"title", r.prompt},
              {"prompt", r.prompt},
              {"negative_prompt", r.negative_prompt ? *r.negative_prompt : std::string("(none: zero unconditional row)")},
              {"seed", std::to_string(r.seed)},
              {"steps", std::to_string(r.num_inference_steps)},
              {"guidance_scale", format_number(r.guidance_scale)},
              {"audio_start_in_s", format_number(r.audio_start_in_s)},
              {"model", model_label_},
              {"encoder", "omnihost stable_audio 0.1.0"}};
    if (!settings_.recipe.empty()) o.tags.emplace_back("recipe", settings_.recipe);
    const std::vector<encoded_waveform> files =
        encode_waveforms(audio.data_ptr<float>(), audio.size(0), audio.size(1), audio.size(2), o);
    job_progress(job, 1, 1, "export", "encoded " + r.output_format);
    for (size_t i = 0; i < files.size(); ++i) {
        const auto &p = files[i].peak;
        if (p.scaled)
            log(OMNIHOST_LOG_INFO, "waveform " + std::to_string(i) + ": peak " + format_number(p.peak_in) +
                                       " scaled by " + format_number(p.gain) + " (" + r.peak_mode + ")");
    }

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const int64_t samples = audio.size(2);
    json meta = {{"duration", double(samples) / double(out.sampling_rate)},
                 {"requested_duration", r.audio_duration},
                 {"sampling_rate", out.sampling_rate},
                 {"channels", audio.size(1)},
                 {"samples", samples},
                 {"audio_start_in_s", r.audio_start_in_s},
                 {"audio_end_in_s", r.audio_end_in_s()},
                 {"seed", r.seed},
                 {"steps", r.num_inference_steps},
                 {"guidance_scale", r.guidance_scale},
                 {"negative_prompt", r.negative_prompt ? json(*r.negative_prompt) : json(nullptr)},
                 {"model", model_label_},
                 {"output_format", r.output_format},
                 {"waveforms", files.size()},
                 {"peak", peak_json(files, r.peak_mode)},
                 {"generation_time", seconds}};
    if (!settings_.recipe.empty()) meta["recipe"] = settings_.recipe;
    if (files.size() > 1) meta["extra_audio_base64"] = extra_waveforms_base64(files);
    meta.update(memory_meta);

    const std::string &mime = files.front().mime_type;
    log(OMNIHOST_LOG_INFO, "audio ready: " + std::to_string(files.front().bytes.size()) + " bytes " + mime + " (" +
                               format_number(std::round(double(samples) / double(out.sampling_rate) * 100) / 100) +
                               " s) in " + format_number(std::round(seconds * 100) / 100) + " s");
    return core_.add_result(files.front().bytes, mime, meta.dump());
}

void audio_instance::stop() {
    if (pipeline_) log(OMNIHOST_LOG_INFO, "unloading " + model_label_);
    pipeline_.reset();
    memory_.clear();
    set_state("stopped", "not started");
}

std::string audio_instance::health() const {
    const json memory = memory_.health_json();
    if (memory.is_null()) return core_.health();
    json h = parse_json_bounded(core_.health());
    memory_.add_to_health(h);
    return h.dump();
}

inprocess::error_context audio_instance::error_context(bool loading) const {
    inprocess::error_context c;
    c.loading = loading;
    c.device = device_;
    c.media_prefix = "audio export: ";
    std::vector<std::string> help;
    const bool gpu = !device_.empty() && device_ != "cpu";
    if (gpu && !settings_.enable_cpu_offload)
        help.push_back("enable_cpu_offload=true (only the component in use on " + device_ + ")");
    if (settings_.dtype != "bf16") help.push_back("dtype=bf16 (half the weight and activation memory)");
    if (!loading)
        help.push_back("a shorter duration (audio_end_in_s) or fewer waveforms per prompt");
    else
        help.push_back(gpu ? "a GPU with more memory" : "more RAM");
    for (size_t i = 0; i < help.size(); ++i) c.oom_advice += (i ? ", " : "") + help[i];
    return c;
}

std::string audio_instance::command_preview(const std::string &start_json) const {
    const start_settings s = parse_start_settings(start_json);
    // A model outside the allowed roots is refused here exactly as start refuses it, with one
    // message whether or not the path exists; inside the roots a missing folder is only noted.
    std::string where;
    try {
        where = resolve_model(s.model, config_.data_dir, config_.model_roots).dir.string();
    } catch (const model_outside_roots &) {
        throw;
    } catch (const plugin_error &) {
        where = s.model + " (not found yet)";
    }
    const std::string cmd = "load " + where + " in-process (libtorch, StableAudioPipeline): device=" + s.device +
                            " dtype=" + s.dtype + " threads=" +
                            (s.threads > 0 ? std::to_string(s.threads) : std::string("all cores")) +
                            " enable_cpu_offload=" + on_off(s.enable_cpu_offload) +
                            " enforce_eager=" + on_off(s.enforce_eager);
    json j = {{"kind", "inprocess"}, {"argv", json::array()}, {"env", json::object()},
              {"command", cmd}, {"settings", settings_json(s)}, {"model_path", where}};
    return j.dump();
}

}  // namespace omnihost::stable_audio
