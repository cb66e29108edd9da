#include "core/hub.h"

#include "core/safetensors.h"  // model_error

#include <algorithm>
#include <cstdlib>
#include <fstream>

namespace fs = std::filesystem;

namespace omnihost::models {
namespace {

std::string env(const char *name) {
    const char *v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

std::vector<fs::path> hf_cache_roots() {
    std::vector<fs::path> roots;
    auto add = [&](const fs::path &p) {
        if (!p.empty() && std::find(roots.begin(), roots.end(), p) == roots.end()) roots.push_back(p);
    };
    if (!env("HF_HUB_CACHE").empty()) add(env("HF_HUB_CACHE"));
    if (!env("HF_HOME").empty()) add(fs::path(env("HF_HOME")) / "hub");
    if (!env("XDG_CACHE_HOME").empty()) add(fs::path(env("XDG_CACHE_HOME")) / "huggingface" / "hub");
    if (!env("HOME").empty()) add(fs::path(env("HOME")) / ".cache" / "huggingface" / "hub");
    return roots;
}

fs::path resolve_model_path(const std::string &model) {
    if (model.empty()) throw model_error("model: empty model name or path");
    std::vector<std::string> looked;
    {
        std::error_code ec;
        if (fs::is_directory(model, ec)) return fs::path(model);
        looked.push_back(model + " (local folder)");
    }
    std::string id = model, revision = "main";
    if (auto at = id.find('@'); at != std::string::npos) {
        revision = id.substr(at + 1);
        id = id.substr(0, at);
    }
    const auto slash = id.find('/');
    const bool hub_like = slash != std::string::npos && slash > 0 && slash + 1 < id.size() &&
                          id.find('/', slash + 1) == std::string::npos && id[0] != '.' && id[0] != '/';
    if (hub_like) {
        const std::string folder = "models--" + id.substr(0, slash) + "--" + id.substr(slash + 1);
        for (const auto &root : hf_cache_roots()) {
            const fs::path repo = root / folder;
            const fs::path snapshots = repo / "snapshots";
            std::error_code ec;
            if (!fs::is_directory(snapshots, ec)) {
                looked.push_back(snapshots.string());
                continue;
            }
            // refs/<revision> holds a commit hash; a revision may also be a commit hash itself.
            std::string rev;
            if (std::ifstream ref(repo / "refs" / revision); ref) std::getline(ref, rev);
            rev = trim(rev);
            if (rev.empty() && revision != "main") rev = revision;
            if (!rev.empty()) {
                if (fs::is_directory(snapshots / rev, ec)) return snapshots / rev;
                looked.push_back((snapshots / rev).string() + " (from refs/" + revision + ")");
                if (revision != "main") continue;
            }
            // No usable ref: take the newest snapshot folder.
            fs::path best;
            fs::file_time_type best_time{};
            for (const auto &de : fs::directory_iterator(snapshots, ec)) {
                if (!de.is_directory()) continue;
                auto t = fs::last_write_time(de.path(), ec);
                if (best.empty() || t > best_time) {
                    best = de.path();
                    best_time = t;
                }
            }
            if (!best.empty()) return best;
            looked.push_back(snapshots.string() + " (no snapshot inside)");
        }
    }
    std::string msg = "model '" + model + "' not found; looked in:";
    for (const auto &l : looked) msg += "\n  " + l;
    if (!hub_like) msg += "\n  (not a hub id of the form org/name, so the Hugging Face cache was not searched)";
    throw model_error(msg);
}

}  // namespace omnihost::models
