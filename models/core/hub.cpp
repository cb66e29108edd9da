#include "core/hub.h"

#include "core/model_error.h"
#include "core/regular_file.h"

#include <algorithm>
#include <cstdlib>

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

bool id_char(char c, bool allow_slash) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || (allow_slash && c == '/');
}

bool valid_part(const std::string &s, bool allow_slash) {
    if (s.empty() || s.size() > 96 * (allow_slash ? 2 : 1)) return false;
    if (s[0] == '.' || s[0] == '-' || s[0] == '/' || s.back() == '/') return false;
    if (s.find("..") != std::string::npos || s.find("//") != std::string::npos) return false;
    return std::all_of(s.begin(), s.end(), [&](char c) { return id_char(c, allow_slash); });
}

struct hub_id {
    std::string org, name, revision = "main";
    bool explicit_revision = false;
};

bool split_hub_id(const std::string &model, hub_id &out) {
    std::string id = model;
    if (auto at = id.find('@'); at != std::string::npos) {
        out.revision = id.substr(at + 1);
        out.explicit_revision = true;
        id = id.substr(0, at);
        if (!valid_part(out.revision, true)) return false;
    }
    const auto slash = id.find('/');
    if (slash == std::string::npos) return false;
    out.org = id.substr(0, slash);
    out.name = id.substr(slash + 1);
    return valid_part(out.org, false) && valid_part(out.name, false);
}

// Looks `id` up in every cache root, appending what it tried to `looked`.
fs::path find_in_cache(const hub_id &id, std::vector<std::string> &looked) {
    const std::string folder = "models--" + id.org + "--" + id.name;
    for (const auto &root : hf_cache_roots()) {
        const fs::path repo = root / folder;
        const fs::path snapshots = repo / "snapshots";
        std::error_code ec;
        if (!fs::is_directory(snapshots, ec)) {
            looked.push_back(snapshots.string());
            continue;
        }
        // refs/<revision> holds a commit hash; a revision may also be a commit hash itself. The ref
        // is read as an untrusted file (regular, small): a FIFO there must not block the lookup.
        std::string rev;
        std::error_code ref_ec;
        if (fs::exists(repo / "refs" / id.revision, ref_ec)) {
            try {
                rev = trim(read_regular_file(repo / "refs" / id.revision, "hub ref", 4096));
            } catch (const model_error &e) {
                looked.push_back(e.what());
                rev.clear();
            }
            if (!rev.empty() && !valid_part(rev, false)) {
                looked.push_back((repo / "refs" / id.revision).string() + " (not a commit hash)");
                rev.clear();
            }
        }
        if (rev.empty() && id.revision != "main") rev = id.revision;
        if (!rev.empty()) {
            if (fs::is_directory(snapshots / rev, ec)) return snapshots / rev;
            looked.push_back((snapshots / rev).string() + " (from refs/" + id.revision + ")");
            if (id.revision != "main") continue;
        }
        // No usable ref: take the newest snapshot folder.
        fs::path best;
        fs::file_time_type best_time{};
        for (const auto &de : fs::directory_iterator(snapshots, ec)) {
            std::error_code dec;
            if (!de.is_directory(dec)) continue;
            auto t = fs::last_write_time(de.path(), dec);
            if (best.empty() || t > best_time) {
                best = de.path();
                best_time = t;
            }
        }
        if (!best.empty()) return best;
        looked.push_back(snapshots.string() + " (no snapshot inside)");
    }
    return {};
}

[[noreturn]] void not_found(const std::string &model, const std::vector<std::string> &looked, bool hub_like) {
    std::string msg = "model '" + model + "' not found; looked in:";
    for (const auto &l : looked) msg += "\n  " + l;
    if (!hub_like) msg += "\n  (not a hub id of the form org/name, so the Hugging Face cache was not searched)";
    throw model_error(msg);
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

bool is_hub_model_id(const std::string &model) {
    hub_id id;
    return split_hub_id(model, id);
}

std::optional<hub_id_parts> parse_hub_id(const std::string &model) {
    hub_id id;
    if (!split_hub_id(model, id)) return std::nullopt;
    return hub_id_parts{id.org, id.name, id.revision, id.explicit_revision};
}

fs::path resolve_hub_model(const std::string &model) {
    hub_id id;
    if (!split_hub_id(model, id))
        throw model_error("model '" + model +
                          "' is not a hub id of the form org/name[@revision] (letters, digits, '.', '_', '-')");
    std::vector<std::string> looked;
    fs::path found = find_in_cache(id, looked);
    if (found.empty()) not_found(model, looked, true);
    return found;
}

fs::path resolve_model_path(const std::string &model) {
    if (model.empty()) throw model_error("model: empty model name or path");
    std::vector<std::string> looked;
    {
        std::error_code ec;
        if (fs::is_directory(model, ec)) return fs::path(model);
        looked.push_back(model + " (local folder)");
    }
    hub_id id;
    const bool hub_like = split_hub_id(model, id);
    if (hub_like) {
        fs::path found = find_in_cache(id, looked);
        if (!found.empty()) return found;
    }
    not_found(model, looked, hub_like);
}

}  // namespace omnihost::models
