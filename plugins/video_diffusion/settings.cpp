#include "settings.h"

#include "plugin_error.h"
#include "settings_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace omnihost::video_diffusion {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

using inprocess::find;
using inprocess::parse_object;
using inprocess::get_bool;
using inprocess::get_int;
using inprocess::get_number;
using inprocess::get_string;

limits read_limits(const json &j, limits lim) {
    lim.max_pixels = get_int(j, "max_pixels", lim.max_pixels);
    lim.max_frames = get_int(j, "max_frames", lim.max_frames);
    if (lim.max_pixels < 256) throw invalid_field("max_pixels", "must be >= 256");
    if (lim.max_frames < 1) throw invalid_field("max_frames", "must be >= 1");
    return lim;
}

}  // namespace

int64_t frames_4k_plus_1(int64_t n) {
    if (n % 4 != 1) n = n / 4 * 4 + 1;
    return n < 1 ? 1 : n;
}

create_config parse_create_config(const std::string &json_text) {
    const json j = parse_object(json_text, "config");
    create_config c;
    c.data_dir = get_string(j, "data_dir", "");
    c.lim = read_limits(j, c.lim);
    c.model_roots = inprocess::read_model_roots(j);
    return c;
}

start_settings parse_start_settings(const std::string &json_text, const limits &base) {
    const json j = parse_object(json_text, "start");
    start_settings s;
    s.model = get_string(j, "model", "");
    if (s.model.empty()) throw invalid_field("model", "is required (a model folder or a hub id)");
    if (s.model.size() > 4096) throw invalid_field("model", "is longer than 4096 characters");
    for (const char ch : s.model)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
            throw invalid_field("model", "must not contain control characters");
    s.recipe = get_string(j, "recipe", "");
    const std::string model_type = get_string(j, "model_type", "video");
    if (model_type != "video")
        throw invalid_field("model_type", "this plugin serves video models, not '" + model_type + "'");
    s.vae_use_slicing = get_bool(j, "vae_use_slicing", s.vae_use_slicing);
    s.vae_use_tiling = get_bool(j, "vae_use_tiling", s.vae_use_tiling);
    if (find(j, "flow_shift")) {
        const double shift = get_number(j, "flow_shift", 0);
        if (!(shift > 0)) throw invalid_field("flow_shift", "must be > 0");
        s.flow_shift = shift;
    }
    s.enable_cpu_offload = get_bool(j, "enable_cpu_offload", s.enable_cpu_offload);
    s.sequential_cpu_offload = get_bool(j, "sequential_cpu_offload", s.sequential_cpu_offload);
    s.enforce_eager = get_bool(j, "enforce_eager", s.enforce_eager);
    s.device = get_string(j, "device", s.device);
    s.dtype = get_string(j, "dtype", s.dtype);
    const int64_t threads = get_int(j, "threads", 0);
    if (threads < 0 || threads > 1024) throw invalid_field("threads", "must be in [0, 1024] (0 = every core)");
    s.threads = static_cast<int>(threads);
    s.lim = read_limits(j, base);

    generation_defaults &d = s.defaults;
    d.height = get_int(j, "height", d.height);
    d.width = get_int(j, "width", d.width);
    d.duration = get_number(j, "duration", d.duration);
    d.fps = get_int(j, "fps", d.fps);
    // Recipes spell these "steps" / "guidance"; requests use the diffusers names.
    d.num_inference_steps = get_int(j, "num_inference_steps", get_int(j, "steps", d.num_inference_steps));
    d.guidance_scale = get_number(j, "guidance_scale", get_number(j, "guidance", d.guidance_scale));
    if (find(j, "guidance_scale_2")) d.guidance_scale_2 = get_number(j, "guidance_scale_2", 0);
    d.negative_prompt = get_string(j, "negative_prompt", d.negative_prompt);
    return s;
}

std::vector<fs::path> allowed_model_roots(const create_config &config) {
    return inprocess::allowed_model_roots(config.data_dir, config.model_roots);
}

resolved_model resolve_model(const std::string &model, const create_config &config) {
    return inprocess::resolve_model(model, config.data_dir, config.model_roots, "video_diffusion");
}

video_request parse_video_request(const std::string &json_text, const generation_defaults &d,
                                  const limits &lim, int64_t size_multiple, bool has_second_expert) {
    const json j = parse_object(json_text, "request");
    // Only top-level fields count for a request (its own "defaults" would be meaningless).
    json top = j;
    top.erase("defaults");
    video_request r;
    const std::string task = get_string(top, "task", "video");
    if (task != "video") throw plugin_error(OMNIHOST_NOT_SUPPORTED, "task: this plugin only does 'video', not '" + task + "'");

    const json *prompt = find(top, "prompt");
    if (!prompt || !prompt->is_string()) throw invalid_field("prompt", "is required and must be a string");
    r.prompt = prompt->get<std::string>();
    r.negative_prompt = get_string(top, "negative_prompt", d.negative_prompt);

    r.height = get_int(top, "height", d.height);
    r.width = get_int(top, "width", d.width);
    for (auto [name, v] : {std::pair<const char *, int64_t>{"height", r.height}, {"width", r.width}}) {
        if (v < size_multiple)
            throw invalid_field(name, "must be at least " + std::to_string(size_multiple) + " (got " + std::to_string(v) + ")");
        if (v % size_multiple != 0)
            throw invalid_field(name, "must be a multiple of " + std::to_string(size_multiple) +
                                          " for this model (got " + std::to_string(v) + ")");
    }
    if (r.height * r.width > lim.max_pixels)
        throw invalid_field(r.height > r.width ? "height" : "width",
                            std::to_string(r.width) + "x" + std::to_string(r.height) + " is " +
                                std::to_string(r.height * r.width) + " pixels, over the limit max_pixels=" +
                                std::to_string(lim.max_pixels));

    r.fps = get_int(top, "fps", d.fps);
    if (r.fps < 1 || r.fps > 240) throw invalid_field("fps", "must be in [1, 240] (got " + std::to_string(r.fps) + ")");
    int64_t frames;
    if (find(top, "num_frames")) {
        frames = get_int(top, "num_frames", 0);
        if (frames < 1) throw invalid_field("num_frames", "must be >= 1");
    } else {
        const double duration = get_number(top, "duration", d.duration);
        if (!(duration > 0)) throw invalid_field("duration", "must be > 0 seconds");
        if (duration * double(r.fps) > 1e6) throw invalid_field("duration", "is far too long");
        frames = std::llround(duration * double(r.fps));
    }
    r.num_frames = frames_4k_plus_1(frames);
    if (r.num_frames > lim.max_frames)
        throw invalid_field(find(top, "num_frames") ? "num_frames" : "duration",
                            std::to_string(r.num_frames) + " frames is over the limit max_frames=" +
                                std::to_string(lim.max_frames));

    r.num_inference_steps = get_int(top, "num_inference_steps", d.num_inference_steps);
    if (r.num_inference_steps < 1) throw invalid_field("num_inference_steps", "must be > 0 (got " + std::to_string(r.num_inference_steps) + ")");
    if (r.num_inference_steps > 1000) throw invalid_field("num_inference_steps", "must be <= 1000");

    r.guidance_scale = get_number(top, "guidance_scale", d.guidance_scale);
    if (r.guidance_scale < 0 || r.guidance_scale > 100) throw invalid_field("guidance_scale", "must be in [0, 100]");
    if (find(top, "guidance_scale_2")) {
        if (!has_second_expert)
            throw invalid_field("guidance_scale_2", "only applies to two-expert models (Wan2.2 A14B); this model has one transformer");
        r.guidance_scale_2 = get_number(top, "guidance_scale_2", 0);
        if (*r.guidance_scale_2 < 0 || *r.guidance_scale_2 > 100) throw invalid_field("guidance_scale_2", "must be in [0, 100]");
    } else if (has_second_expert) {
        r.guidance_scale_2 = d.guidance_scale_2;
    }

    r.seed = inprocess::get_seed(top, r.seed_was_random);
    return r;
}

}  // namespace omnihost::video_diffusion
