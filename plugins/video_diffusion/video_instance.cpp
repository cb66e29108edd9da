#include "video_instance.h"

#include "model_download.h"
#include "plugin_error.h"

#include "common/json_limits.h"
#include "media/frames.h"
#include "media/image_decode.h"
#include "media/media_error.h"
#include "media/mp4_export.h"
#include "core/runtime.h"
#include "core/device_memory.h"
#include "core/model_error.h"
#include "wan_pipeline/wan_pipeline.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <cmath>
#include <sstream>

namespace omnihost::video_diffusion {
namespace {

using json = nlohmann::json;
namespace wan = models::wan;

using inprocess::job_cancelled;
using inprocess::job_progress;

std::string on_off(bool b) { return b ? "on" : "off"; }

std::string format_number(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

json settings_json(const start_settings &s) {
    json j = {{"model", s.model},
              {"vae_use_slicing", s.vae_use_slicing},
              {"vae_use_tiling", s.vae_use_tiling},
              {"enable_cpu_offload", s.enable_cpu_offload},
              {"sequential_cpu_offload", s.sequential_cpu_offload},
              {"enforce_eager", s.enforce_eager},
              {"device", s.device},
              {"dtype", s.dtype},
              {"threads", s.threads},
              {"max_pixels", s.lim.max_pixels},
              {"max_frames", s.lim.max_frames}};
    j["flow_shift"] = s.flow_shift ? json(*s.flow_shift) : json(nullptr);
    return j;
}

// The plugin's own limits on an input image (the host checks its --max-image-bytes first; these
// keep a plugin called without that host safe): 32 MiB encoded, 8192 px a side.
constexpr size_t max_image_bytes = 32u << 20;
constexpr int max_image_side = 8192;

struct request_image {
    wan::rgb_image image;
    std::string sha256;  // of the encoded file bytes (what the user sent)
};

// The request's `field` ("image" / "last_image"): a data URL or plain base64 string; null or
// absent = not given. Decoding errors are request errors naming the field.
std::optional<request_image> read_request_image(const json &request, const char *field) {
    if (!request.is_object() || !request.contains(field) || request.at(field).is_null()) return std::nullopt;
    const json &v = request.at(field);
    if (!v.is_string()) throw wan::request_error(field, "must be a string (a data URL or base64)");
    try {
        const media::image_payload payload = media::decode_image_payload(v.get_ref<const std::string &>(), max_image_bytes);
        media::image_decode_limits lim;
        lim.max_bytes = max_image_bytes;
        lim.max_width = max_image_side;
        lim.max_height = max_image_side;
        media::decoded_image d = media::decode_image(payload.bytes.data(), payload.bytes.size(), lim);
        request_image out;
        out.sha256 = media::sha256_hex(payload.bytes.data(), payload.bytes.size());
        out.image.width = d.width;
        out.image.height = d.height;
        out.image.rgb = std::move(d.rgb);
        return out;
    } catch (const media::media_error &e) {
        throw wan::request_error(field, e.what());
    }
}

json image_input_json(const wan::pipeline_info &info) {
    return {{"image", info.image_input}, {"last_image", info.last_image_input}};
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

wan::pipeline_settings to_pipeline_settings(const start_settings &s) {
    wan::pipeline_settings p;
    p.device = s.device;
    p.dtype = s.dtype;
    p.threads = s.threads;
    p.vae_use_slicing = s.vae_use_slicing;
    p.vae_use_tiling = s.vae_use_tiling;
    p.flow_shift = s.flow_shift;
    p.enable_cpu_offload = s.enable_cpu_offload;
    p.sequential_cpu_offload = s.sequential_cpu_offload;
    p.enforce_eager = s.enforce_eager;
    return p;
}

}  // namespace

video_instance::video_instance(const omnihost_host *host, create_config config)
    : core_(host, "video_diffusion"), config_(std::move(config)) {}

video_instance::~video_instance() { stop(); }

void video_instance::start(const std::string &start_json, const omnihost_job *job) {
    const start_settings s = parse_start_settings(start_json, config_.lim);
    inprocess::download_if_missing(s.model, config_.data_dir, config_.model_roots, "video_diffusion", core_, job);
    const resolved_model resolved = resolve_model(s.model, config_);
    const auto &dir = resolved.dir;
    const std::string device = resolve_device(s.device);
    stop();  // a second start replaces the loaded model
    settings_ = s;  // what an out-of-memory message advises from, before the load can fail
    device_ = device;
    memory_.begin(device);
    set_state("loading", "loading " + resolved.label);
    log(OMNIHOST_LOG_INFO, "loading " + resolved.label + " from " + dir.string());

    wan::load_callbacks cb;
    cb.log = [this](wan::log_level level, const std::string &m) {
        log(level == wan::log_level::warn ? OMNIHOST_LOG_WARN
            : level == wan::log_level::debug ? OMNIHOST_LOG_DEBUG : OMNIHOST_LOG_INFO, m);
    };
    cb.progress = [job](int step, int total, const std::string &what) { job_progress(job, step, total, "load", what); };
    cb.is_cancelled = [job] { return job_cancelled(job); };
    try {
        pipeline_ = wan::wan_pipeline::load(dir, to_pipeline_settings(s), cb);
    } catch (...) {
        pipeline_.reset();
        memory_.clear();
        models::release_cached_memory(device);
        set_state("stopped", "load failed");
        throw;
    }
    model_label_ = resolved.label;
    log(OMNIHOST_LOG_INFO, memory_.end_load());
    const auto &info = pipeline_->info();
    {
        std::lock_guard<std::mutex> lock(health_mutex_);
        image_input_ = image_input_json(info).dump();
    }
    log(OMNIHOST_LOG_INFO, "ready: " + info.variant + " on " + info.device + " (" + info.dtype + ", " +
                               std::to_string(info.threads) + " threads), heights/widths must be multiples of " +
                               std::to_string(info.size_multiple));
    set_state("ready", "model loaded: " + resolved.label);
}

omnihost_result *video_instance::generate(const std::string &request_json, const omnihost_job *job) {
    if (!pipeline_) throw plugin_error(OMNIHOST_UNAVAILABLE, "no model loaded: call start first");
    return memory_.run_job(device_, [&] { return generate_loaded(request_json, job); });
}

omnihost_result *video_instance::generate_loaded(const std::string &request_json, const omnihost_job *job) {
    const auto &info = pipeline_->info();
    const video_request r = parse_video_request(request_json, settings_.defaults, settings_.lim,
                                                info.size_multiple, info.boundary_ratio.has_value());
    // The image fields are this file's (the request schema's other fields are settings.cpp's).
    const json request = parse_json_bounded(request_json);
    std::optional<request_image> image = read_request_image(request, "image");
    std::optional<request_image> last_image = read_request_image(request, "last_image");
    auto refuse = [](const char *field, bool given, const std::string &rule) {
        if (given && rule == "refused")
            throw wan::request_error(field, "this model takes no " + std::string(field));
        if (!given && rule == "required") throw wan::request_error(field, "this model requires " + std::string(field));
    };
    refuse("image", image.has_value(), info.image_input);
    refuse("last_image", last_image.has_value(), info.last_image_input);
    const auto t0 = std::chrono::steady_clock::now();
    if (image)
        log(OMNIHOST_LOG_INFO, "input image " + std::to_string(image->image.width) + "x" +
                                   std::to_string(image->image.height) + " sha256 " + image->sha256 +
                                   (last_image ? ", last image sha256 " + last_image->sha256 : std::string()));
    log(OMNIHOST_LOG_INFO, "generate " + std::to_string(r.width) + "x" + std::to_string(r.height) + ", " +
                               std::to_string(r.num_frames) + " frames @ " + std::to_string(r.fps) + " fps, " +
                               std::to_string(r.num_inference_steps) + " steps, guidance " +
                               format_number(r.guidance_scale) + ", seed " + std::to_string(r.seed) +
                               (r.seed_was_random ? " (random)" : ""));

    wan::generate_request req;
    req.prompt = r.prompt;
    req.negative_prompt = r.negative_prompt;
    req.height = r.height;
    req.width = r.width;
    req.num_frames = r.num_frames;
    req.num_inference_steps = r.num_inference_steps;
    req.guidance_scale = r.guidance_scale;
    req.guidance_scale_2 = r.guidance_scale_2;
    req.seed = r.seed;
    if (image) req.image = std::move(image->image);
    if (last_image) req.last_image = std::move(last_image->image);

    wan::generate_callbacks cb;
    cb.progress = [job](int step, int total, const std::string &phase) {
        job_progress(job, step, total, phase.c_str(), phase == "denoise" ? "step " + std::to_string(step) + "/" + std::to_string(total) : "");
    };
    cb.is_cancelled = [job] { return job_cancelled(job); };
    wan::generate_output out = pipeline_->generate(req, cb);
    const json memory_meta = memory_.end_job();

    if (job_cancelled(job)) throw wan::generation_cancelled("generation cancelled");
    job_progress(job, 0, 1, "export", "encoding MP4");
    at::Tensor frames = out.frames.contiguous();
    const int64_t f = frames.size(0), h = frames.size(1), w = frames.size(2);
    const auto rgb = media::quantize_unit_floats(frames.data_ptr<float>(), size_t(frames.numel()));
    media::mp4_options mo;
    mo.fps = static_cast<int>(r.fps);
    mo.metadata = {{"prompt", r.prompt},
                   {"negative_prompt", r.negative_prompt},
                   {"seed", std::to_string(r.seed)},
                   {"steps", std::to_string(r.num_inference_steps)},
                   {"guidance_scale", format_number(r.guidance_scale)},
                   {"model", model_label_},
                   {"comment", "generated by omnihost video_diffusion"}};
    if (!settings_.recipe.empty()) mo.metadata["recipe"] = settings_.recipe;
    if (image) mo.metadata["input_image_sha256"] = image->sha256;
    if (last_image) mo.metadata["input_last_image_sha256"] = last_image->sha256;
    std::vector<uint8_t> bytes = media::encode_mp4(rgb.data(), int(f), int(w), int(h), mo);
    job_progress(job, 1, 1, "export", "encoded MP4");

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    json meta = {{"duration", double(f) / double(r.fps)},
                 {"fps", r.fps},
                 {"frames", f},
                 {"width", w},
                 {"height", h},
                 {"seed", r.seed},
                 {"steps", r.num_inference_steps},
                 {"guidance_scale", r.guidance_scale},
                 {"model", model_label_},
                 {"generation_time", seconds}};
    if (!settings_.recipe.empty()) meta["recipe"] = settings_.recipe;
    if (r.guidance_scale_2) meta["guidance_scale_2"] = *r.guidance_scale_2;
    if (image) meta["input_image_sha256"] = image->sha256;
    if (last_image) meta["input_last_image_sha256"] = last_image->sha256;
    meta.update(memory_meta);
    log(OMNIHOST_LOG_INFO, "video ready: " + std::to_string(bytes.size()) + " bytes MP4 in " +
                               format_number(std::round(seconds * 100) / 100) + " s");
    return core_.add_result(std::move(bytes), "video/mp4", meta.dump());
}

std::string video_instance::health() const {
    std::string image_input;
    {
        std::lock_guard<std::mutex> lock(health_mutex_);
        image_input = image_input_;
    }
    if (image_input.empty()) return core_.health();
    // What the loaded model takes, for the host's request validation and the studio's dropzone,
    // and its peak device memory (the status line's).
    json h = parse_json_bounded(core_.health());
    h["image_input"] = parse_json_bounded(image_input);
    memory_.add_to_health(h);
    return h.dump();
}

void video_instance::stop() {
    if (pipeline_) log(OMNIHOST_LOG_INFO, "unloading " + model_label_);
    {
        std::lock_guard<std::mutex> lock(health_mutex_);
        image_input_.clear();
    }
    pipeline_.reset();
    memory_.clear();
    set_state("stopped", "not started");
}

inprocess::error_context video_instance::error_context(bool loading) const {
    inprocess::error_context c;
    c.loading = loading;
    c.device = device_;
    std::vector<std::string> help;
    const bool gpu = !device_.empty() && device_ != "cpu";
    if (gpu && !settings_.enable_cpu_offload && !settings_.sequential_cpu_offload)
        help.push_back("enable_cpu_offload=true (only the component in use on " + device_ + ")");
    else if (gpu && !settings_.sequential_cpu_offload)
        help.push_back("sequential_cpu_offload=true (only the block in use on " + device_ + ", much slower)");
    if (settings_.dtype != "bf16" && settings_.dtype != "bfloat16")
        help.push_back("dtype=bf16 (half the weight and activation memory)");
    if (!loading) {
        if (!settings_.vae_use_tiling) help.push_back("vae_use_tiling=true");
        if (!settings_.vae_use_slicing) help.push_back("vae_use_slicing=true");
        help.push_back("a smaller height/width or fewer frames (num_frames / duration)");
    } else {
        help.push_back(gpu ? "a smaller model or a GPU with more memory" : "a smaller model or more RAM");
    }
    for (size_t i = 0; i < help.size(); ++i) c.oom_advice += (i ? ", " : "") + help[i];
    return c;
}

std::string video_instance::command_preview(const std::string &start_json) const {
    const start_settings s = parse_start_settings(start_json, config_.lim);
    // A model outside the allowed roots is refused here exactly as start refuses it, with one
    // message whether or not the path exists; inside the roots a missing folder is only noted.
    std::string where;
    try {
        where = resolve_model(s.model, config_).dir.string();
    } catch (const model_outside_roots &) {
        throw;
    } catch (const plugin_error &) {
        where = s.model + " (not found yet)";
    }
    std::string cmd = "load " + where + " in-process (libtorch): device=" + s.device + " dtype=" + s.dtype +
                      " threads=" + (s.threads > 0 ? std::to_string(s.threads) : std::string("all cores")) +
                      " vae_use_slicing=" + on_off(s.vae_use_slicing) + " vae_use_tiling=" + on_off(s.vae_use_tiling) +
                      " flow_shift=" + (s.flow_shift ? format_number(*s.flow_shift) : std::string("from scheduler config")) +
                      " enable_cpu_offload=" + on_off(s.enable_cpu_offload) +
                      (s.sequential_cpu_offload ? " sequential_cpu_offload=on" : "") + " enforce_eager=" + on_off(s.enforce_eager);
    json j = {{"kind", "inprocess"}, {"argv", json::array()}, {"env", json::object()},
              {"command", cmd}, {"settings", settings_json(s)}, {"model_path", where}};
    return j.dump();
}

}  // namespace omnihost::video_diffusion
