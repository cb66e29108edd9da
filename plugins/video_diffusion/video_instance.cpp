#include "video_instance.h"

#include "model_download.h"
#include "plugin_error.h"

#include "media/frames.h"
#include "media/mp4_export.h"
#include "wan_pipeline/wan_pipeline.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <chrono>
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
              {"enforce_eager", s.enforce_eager},
              {"device", s.device},
              {"dtype", s.dtype},
              {"threads", s.threads},
              {"max_pixels", s.lim.max_pixels},
              {"max_frames", s.lim.max_frames}};
    j["flow_shift"] = s.flow_shift ? json(*s.flow_shift) : json(nullptr);
    return j;
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
    stop();  // a second start replaces the loaded model
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
        set_state("stopped", "load failed");
        throw;
    }
    settings_ = s;
    model_label_ = resolved.label;
    const auto &info = pipeline_->info();
    log(OMNIHOST_LOG_INFO, "ready: " + info.variant + " on " + info.device + " (" + info.dtype + ", " +
                               std::to_string(info.threads) + " threads), heights/widths must be multiples of " +
                               std::to_string(info.size_multiple));
    set_state("ready", "model loaded: " + resolved.label);
}

omnihost_result *video_instance::generate(const std::string &request_json, const omnihost_job *job) {
    if (!pipeline_) throw plugin_error(OMNIHOST_UNAVAILABLE, "no model loaded: call start first");
    const auto &info = pipeline_->info();
    const video_request r = parse_video_request(request_json, settings_.defaults, settings_.lim,
                                                info.size_multiple, info.boundary_ratio.has_value());
    const auto t0 = std::chrono::steady_clock::now();
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

    wan::generate_callbacks cb;
    cb.progress = [job](int step, int total, const std::string &phase) {
        job_progress(job, step, total, phase.c_str(), phase == "denoise" ? "step " + std::to_string(step) + "/" + std::to_string(total) : "");
    };
    cb.is_cancelled = [job] { return job_cancelled(job); };
    wan::generate_output out = pipeline_->generate(req, cb);

    if (job_cancelled(job)) throw wan::generation_cancelled();
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
    log(OMNIHOST_LOG_INFO, "video ready: " + std::to_string(bytes.size()) + " bytes MP4 in " +
                               format_number(std::round(seconds * 100) / 100) + " s");
    return core_.add_result(std::move(bytes), "video/mp4", meta.dump());
}

void video_instance::stop() {
    if (pipeline_) log(OMNIHOST_LOG_INFO, "unloading " + model_label_);
    pipeline_.reset();
    set_state("stopped", "not started");
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
                      " enable_cpu_offload=" + on_off(s.enable_cpu_offload) + " enforce_eager=" + on_off(s.enforce_eager);
    json j = {{"kind", "inprocess"}, {"argv", json::array()}, {"env", json::object()},
              {"command", cmd}, {"settings", settings_json(s)}, {"model_path", where}};
    return j.dump();
}

}  // namespace omnihost::video_diffusion
