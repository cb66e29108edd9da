#include "settings.h"

#include "plugin_error.h"

#include "core/hub.h"
#include "core/model_error.h"

#include <common/json_limits.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>

namespace omnihost::video_diffusion {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

json parse_object(const std::string &text, const char *what) {
    json j;
    try {
        j = omnihost::parse_json_bounded(text.empty() ? std::string_view("{}") : std::string_view(text));
    } catch (const json::exception &e) {
        throw invalid_field(what, std::string("not valid JSON (") + e.what() + ")");
    } catch (const omnihost::json_limit_error &e) {
        throw invalid_field(what, std::string("refused (") + e.what() + ")");
    }
    if (!j.is_object()) throw invalid_field(what, "must be a JSON object");
    return j;
}

// Looks a field up at the top level, then in "defaults"; nullptr when absent or null.
const json *find(const json &j, const std::string &key) {
    auto it = j.find(key);
    if (it != j.end() && !it->is_null()) return &*it;
    auto d = j.find("defaults");
    if (d != j.end() && d->is_object()) {
        auto it2 = d->find(key);
        if (it2 != d->end() && !it2->is_null()) return &*it2;
    }
    return nullptr;
}

bool get_bool(const json &j, const std::string &key, bool fallback) {
    const json *v = find(j, key);
    if (!v) return fallback;
    if (!v->is_boolean()) throw invalid_field(key, "must be true or false");
    return v->get<bool>();
}

double get_number(const json &j, const std::string &key, double fallback) {
    const json *v = find(j, key);
    if (!v) return fallback;
    if (!v->is_number()) throw invalid_field(key, "must be a number");
    const double x = v->get<double>();
    if (!std::isfinite(x)) throw invalid_field(key, "must be a finite number");
    return x;
}

// Integers may arrive as 64.0 from JavaScript; fractional values are refused.
int64_t get_int(const json &j, const std::string &key, int64_t fallback) {
    const json *v = find(j, key);
    if (!v) return fallback;
    if (v->is_number_integer()) return v->get<int64_t>();
    if (v->is_number_float()) {
        const double x = v->get<double>();
        if (std::isfinite(x) && x == std::floor(x) && std::abs(x) < 9.007199254740992e15)
            return static_cast<int64_t>(x);
    }
    throw invalid_field(key, "must be an integer");
}

std::string get_string(const json &j, const std::string &key, const std::string &fallback) {
    const json *v = find(j, key);
    if (!v) return fallback;
    if (!v->is_string()) throw invalid_field(key, "must be a string");
    return v->get<std::string>();
}

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
    auto add_roots = [&c](const std::string &list) {
        size_t start = 0;
        while (start <= list.size()) {
            const size_t colon = std::min(list.find(':', start), list.size());
            const std::string one = list.substr(start, colon - start);
            if (!one.empty()) c.model_roots.push_back(fs::absolute(fs::path(one)).lexically_normal());
            start = colon + 1;
        }
    };
    if (const json *roots = find(j, "model_roots")) {
        if (roots->is_string()) {
            add_roots(roots->get<std::string>());
        } else if (roots->is_array()) {
            for (const auto &r : *roots) {
                if (!r.is_string() || r.get<std::string>().empty())
                    throw invalid_field("model_roots", "must be a list of folder paths (or one colon-separated string)");
                c.model_roots.push_back(fs::absolute(fs::path(r.get<std::string>())).lexically_normal());
            }
        } else {
            throw invalid_field("model_roots", "must be a list of folder paths (or one colon-separated string)");
        }
    }
    if (const char *env = std::getenv("OMNIHOST_MODEL_ROOTS")) add_roots(env);
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

namespace {

// Canonical where the path exists, lexically normal absolute otherwise; never throws.
fs::path canonical_or_normal(const fs::path &p) {
    std::error_code ec;
    fs::path out = fs::weakly_canonical(p, ec);
    if (ec) out = fs::absolute(p, ec).lexically_normal();
    if (out.has_relative_path() && out.filename().empty()) out = out.parent_path();  // "a/b/" -> "a/b"
    return out;
}

// `path` and `root` are both canonical/normal absolute paths: componentwise prefix.
bool is_inside(const fs::path &path, const fs::path &root) {
    if (root.empty()) return false;
    auto r = root.begin();
    auto p = path.begin();
    for (; r != root.end(); ++r, ++p) {
        if (p == path.end() || *p != *r) return false;
    }
    return true;
}

// The longest root holding `path`, or an empty path.
fs::path root_of(const fs::path &path, const std::vector<fs::path> &roots) {
    fs::path best;
    for (const auto &r : roots)
        if (is_inside(path, r) && std::distance(r.begin(), r.end()) > std::distance(best.begin(), best.end())) best = r;
    return best;
}

// A relative path without ".", ".." or empty components (as users write "models/wan-tiny").
bool plain_relative(const std::string &model) {
    const fs::path p(model);
    if (p.is_absolute() || p.empty() || model.back() == '/') return false;
    for (const auto &part : p)
        if (part == "." || part == ".." || part.empty()) return false;
    return true;
}

std::string label_for(const std::string &model, const fs::path &dir, const std::vector<fs::path> &roots,
                      const std::vector<fs::path> &hf_roots) {
    if (plain_relative(model)) return model;
    const fs::path root = root_of(dir, roots);
    if (!root.empty()) {
        const fs::path rel = dir.lexically_relative(root);
        // A snapshot in the Hugging Face cache: models--org--name/snapshots/<rev> -> "org/name".
        if (std::find(hf_roots.begin(), hf_roots.end(), root) != hf_roots.end() && !rel.empty()) {
            const std::string repo = rel.begin()->string();
            const std::string prefix = "models--";
            const auto sep = repo.find("--", prefix.size());
            if (repo.rfind(prefix, 0) == 0 && sep != std::string::npos && sep + 2 < repo.size())
                return repo.substr(prefix.size(), sep - prefix.size()) + "/" + repo.substr(sep + 2);
        }
        if (!rel.empty() && rel != ".") return rel.generic_string();
    }
    return dir.filename().string();
}

}  // namespace

std::vector<fs::path> allowed_model_roots(const create_config &config) {
    std::vector<fs::path> roots;
    auto add = [&](const fs::path &p) {
        if (p.empty()) return;
        const fs::path c = canonical_or_normal(p);
        if (std::find(roots.begin(), roots.end(), c) == roots.end()) roots.push_back(c);
    };
    add(config.data_dir);
    for (const auto &r : models::hf_cache_roots()) add(r);
    for (const auto &r : config.model_roots) add(r);
    return roots;
}

resolved_model resolve_model(const std::string &model, const create_config &config) {
    if (model.empty()) throw invalid_field("model", "is required (a model folder or a hub id)");
    const std::vector<fs::path> roots = allowed_model_roots(config);
    std::vector<fs::path> hf_roots;
    for (const auto &r : models::hf_cache_roots()) hf_roots.push_back(canonical_or_normal(r));

    // Candidate folders: the path itself when absolute; else the path under data_dir, then under
    // each extra root. The current directory is never a base: it is not a root.
    std::vector<std::pair<fs::path, std::string>> candidates;
    const fs::path p(model);
    if (p.is_absolute()) {
        candidates.emplace_back(p, "");
    } else {
        if (!config.data_dir.empty()) candidates.emplace_back(config.data_dir / p, " (under data_dir)");
        for (const auto &r : config.model_roots) candidates.emplace_back(r / p, " (under model root " + r.string() + ")");
    }
    std::vector<std::string> looked;
    bool any_inside = false, any_outside = false;
    for (const auto &[candidate, note] : candidates) {
        const fs::path c = canonical_or_normal(candidate);
        // Outside the roots nothing is looked at (is_directory would tell a request whether
        // an arbitrary path exists).
        if (root_of(c, roots).empty()) {
            any_outside = true;
            continue;
        }
        any_inside = true;
        std::error_code ec;
        if (fs::is_directory(c, ec)) return {c, label_for(model, c, roots, hf_roots)};
        looked.push_back(candidate.lexically_normal().string() + note);
    }
    const bool hub_like = !p.is_absolute() && models::is_hub_model_id(model);
    if (hub_like) {
        any_inside = true;
        try {
            const fs::path c = canonical_or_normal(models::resolve_hub_model(model));
            if (root_of(c, roots).empty())
                throw model_outside_roots(OMNIHOST_INVALID_ARGUMENT,
                                          "model: '" + model + "' resolves outside the Hugging Face cache (a snapshot "
                                          "linked elsewhere); only folders inside the allowed model roots are loaded");
            return {c, model};
        } catch (const models::model_error &e) {
            looked.push_back(std::string("Hugging Face cache: ") + e.what());
        }
    }
    // One fixed text, without the path: byte-identical whether or not the path exists.
    if (any_outside || !any_inside)
        throw model_outside_roots(OMNIHOST_INVALID_ARGUMENT,
                                  "model: the path is outside the folders models may be loaded from (data_dir, "
                                  "the Hugging Face cache, plugin_config.video_diffusion.model_roots, "
                                  "$OMNIHOST_MODEL_ROOTS); give a folder inside them or a hub id org/name");
    std::string msg = "model '" + model + "' was not found; looked in:";
    for (const auto &l : looked) msg += "\n  - " + l;
    throw invalid_field("model", msg);
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

    const json *seed = find(top, "seed");
    if (seed) {
        if (seed->is_number_unsigned()) r.seed = seed->get<uint64_t>();
        else {
            const int64_t s = get_int(top, "seed", 0);
            if (s < 0) throw invalid_field("seed", "must be >= 0");
            r.seed = static_cast<uint64_t>(s);
        }
    } else {
        // Random, but within JavaScript's exact integer range so the UI can echo it back.
        std::random_device rd;
        r.seed = ((uint64_t(rd()) << 32) | rd()) & ((uint64_t(1) << 53) - 1);
        r.seed_was_random = true;
    }
    return r;
}

}  // namespace omnihost::video_diffusion
