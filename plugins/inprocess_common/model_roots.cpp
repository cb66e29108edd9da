#include "model_roots.h"

#include "inprocess_error.h"

#include "core/hub.h"
#include "core/model_error.h"

#include <algorithm>
#include <iterator>

namespace omnihost::inprocess {
namespace {

namespace fs = std::filesystem;

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
    for (; r != root.end(); ++r, ++p)
        if (p == path.end() || *p != *r) return false;
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

std::vector<fs::path> allowed_model_roots(const fs::path &data_dir, const std::vector<fs::path> &extra) {
    std::vector<fs::path> roots;
    auto add = [&](const fs::path &p) {
        if (p.empty()) return;
        const fs::path c = canonical_or_normal(p);
        if (std::find(roots.begin(), roots.end(), c) == roots.end()) roots.push_back(c);
    };
    add(data_dir);
    for (const auto &r : models::hf_cache_roots()) add(r);
    for (const auto &r : extra) add(r);
    return roots;
}

resolved_model resolve_model(const std::string &model, const fs::path &data_dir, const std::vector<fs::path> &extra_roots,
                             const std::string &plugin_id) {
    if (model.empty()) throw invalid_field("model", "is required (a model folder or a hub id)");
    const std::vector<fs::path> roots = allowed_model_roots(data_dir, extra_roots);
    std::vector<fs::path> hf_roots;
    for (const auto &r : models::hf_cache_roots()) hf_roots.push_back(canonical_or_normal(r));

    // Candidates: the path itself when absolute; else under data_dir, then under each extra root.
    // The current directory is never a base: it is not a root.
    std::vector<std::pair<fs::path, std::string>> candidates;
    const fs::path p(model);
    if (p.is_absolute()) {
        candidates.emplace_back(p, "");
    } else {
        if (!data_dir.empty()) candidates.emplace_back(data_dir / p, " (under data_dir)");
        for (const auto &r : extra_roots) candidates.emplace_back(r / p, " (under model root " + r.string() + ")");
    }
    std::vector<std::string> looked;
    bool any_inside = false, any_outside = false;
    for (const auto &[candidate, note] : candidates) {
        const fs::path c = canonical_or_normal(candidate);
        // Outside the roots nothing is looked at (is_directory would tell a request whether an
        // arbitrary path exists).
        if (root_of(c, roots).empty()) {
            any_outside = true;
            continue;
        }
        any_inside = true;
        std::error_code ec;
        if (fs::is_directory(c, ec)) return {c, label_for(model, c, roots, hf_roots)};
        looked.push_back(candidate.lexically_normal().string() + note);
    }
    if (!p.is_absolute() && models::is_hub_model_id(model)) {
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
                                  "model: the path is outside the folders models may be loaded from (data_dir, the "
                                  "Hugging Face cache, plugin_config." + plugin_id + ".model_roots, "
                                  "$OMNIHOST_MODEL_ROOTS); give a folder inside them or a hub id org/name");
    std::string msg = "model '" + model + "' was not found; looked in:";
    for (const auto &l : looked) msg += "\n  - " + l;
    throw invalid_field("model", msg);
}

}  // namespace omnihost::inprocess
