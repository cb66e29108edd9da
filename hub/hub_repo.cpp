#include "hub_repo.h"

#include "hub_error.h"

#include "common/json_limits.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>

namespace omnihost::hub {
namespace {

constexpr std::size_t kMaxFiles = 100000;

std::string folder_of(const std::string &path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string base_of(const std::string &path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool has_variant_tag(const std::string &path) {
    const std::string base = base_of(path);
    for (const char *tag : {".fp16.", ".bf16.", ".fp16-", ".bf16-", ".non_ema.", ".ema.", ".fp32."})
        if (base.find(tag) != std::string::npos) return true;
    return false;
}

bool is_weights(const std::string &path) {
    const std::string ext = ".safetensors";
    return path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
}

}  // namespace

bool safe_cache_name(const std::string &name) {
    if (name.empty() || name.size() > 128) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

bool safe_repo_path(const std::string &path) {
    if (path.empty() || path.size() > 1024 || path.front() == '/' || path.back() == '/') return false;
    for (const char c : path)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\' || c == ':') return false;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        const std::string part = path.substr(start, end - start);
        if (part.empty() || part == "." || part == ".." || part.size() > 255) return false;
        start = end + 1;
    }
    return true;
}

repo_revision parse_revision_info(const std::string &json_text) {
    nlohmann::json j;
    try {
        j = omnihost::parse_json_bounded(json_text, {16, 32u << 20});
    } catch (const std::exception &e) {
        throw hub_error(hub_error_kind::protocol, std::string("the hub's revision answer is not usable JSON (") + e.what() + ")");
    }
    if (!j.is_object()) throw hub_error(hub_error_kind::protocol, "the hub's revision answer is not a JSON object");
    repo_revision out;
    const auto sha = j.find("sha");
    if (sha == j.end() || !sha->is_string())
        throw hub_error(hub_error_kind::protocol, "the hub's revision answer has no commit \"sha\"");
    out.commit = sha->get<std::string>();
    const bool hex = !out.commit.empty() && out.commit.size() <= 64 &&
                     std::all_of(out.commit.begin(), out.commit.end(),
                                 [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    if (!hex) throw hub_error(hub_error_kind::protocol, "the hub's commit \"sha\" is not a hex commit hash");
    const auto siblings = j.find("siblings");
    if (siblings == j.end() || !siblings->is_array())
        throw hub_error(hub_error_kind::protocol, "the hub's revision answer has no \"siblings\" file list");
    if (siblings->size() > kMaxFiles)
        throw hub_error(hub_error_kind::protocol, "the hub lists more than " + std::to_string(kMaxFiles) + " files");
    for (const auto &s : *siblings) {
        if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string())
            throw hub_error(hub_error_kind::protocol, "a \"siblings\" entry has no string \"rfilename\"");
        out.files.push_back(s["rfilename"].get<std::string>());
    }
    return out;
}

const std::vector<std::string> &pipeline_allow_patterns() {
    static const std::vector<std::string> patterns = {
        "model_index.json",
        "*.json",         // component configs, scheduler config, safetensors indexes, tokenizer.json
        "*.safetensors",  // weights (never .bin / .pt pickles)
        "*.txt",          // merges.txt, vocab.txt
        "*.model",        // sentencepiece (spiece.model)
    };
    return patterns;
}

std::vector<std::string> select_files(const std::vector<std::string> &all, const std::vector<std::string> &patterns) {
    std::vector<std::string> matched;
    for (const auto &path : all) {
        const bool wanted = std::any_of(patterns.begin(), patterns.end(),
                                        [&](const std::string &p) { return fnmatch(p.c_str(), path.c_str(), 0) == 0; });
        if (!wanted) continue;
        if (!safe_repo_path(path))
            throw hub_error(hub_error_kind::unsafe, "the hub listed an unsafe file name '" + path +
                                                        "' (absolute, '..', empty or odd characters); refused");
        matched.push_back(path);
    }
    // Folders whose variant-free weights are present: their precision variants are not needed.
    std::set<std::string> plain_weight_folders;
    for (const auto &p : matched)
        if (is_weights(p) && !has_variant_tag(p)) plain_weight_folders.insert(folder_of(p));
    std::vector<std::string> out;
    for (const auto &p : matched)
        if (!(has_variant_tag(p) && plain_weight_folders.count(folder_of(p)))) out.push_back(p);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<std::string> pipeline_components(const std::string &model_index_json) {
    nlohmann::json j;
    try {
        j = omnihost::parse_json_bounded(model_index_json, {16, 1u << 20});
    } catch (const std::exception &e) {
        throw hub_error(hub_error_kind::protocol, std::string("model_index.json is not usable JSON (") + e.what() + ")");
    }
    if (!j.is_object()) throw hub_error(hub_error_kind::protocol, "model_index.json is not a JSON object");
    std::vector<std::string> out;
    for (const auto &[key, value] : j.items())
        if (key.empty() || key[0] != '_')
            if (value.is_array() && value.size() == 2 && safe_repo_path(key) && key.find('/') == std::string::npos)
                out.push_back(key);
    return out;
}

std::vector<std::string> restrict_to_components(const std::vector<std::string> &files,
                                                const std::vector<std::string> &components) {
    const std::set<std::string> folders(components.begin(), components.end());
    std::vector<std::string> out;
    for (const auto &f : files) {
        const auto slash = f.find('/');
        const bool keep = slash == std::string::npos
                              ? (f == "model_index.json" || f == "config.json" || f == "scheduler_config.json")
                              : folders.count(f.substr(0, slash)) > 0;
        if (keep) out.push_back(f);
    }
    return out;
}

}  // namespace omnihost::hub
