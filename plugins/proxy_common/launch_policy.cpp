#include "launch_policy.h"

#include "json_fields.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace omnihost::proxy {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string env_text(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

std::string expand_home(const std::string& p) {
    if (p == "~" || p.rfind("~/", 0) == 0) return env_text("HOME") + p.substr(1);
    return p;
}

// Absolute, lexically normal, no trailing '/'. "" for a relative path (never allowed: it would
// depend on the host's working directory).
std::string normal_absolute(const std::string& raw) {
    std::string p = expand_home(raw);
    if (p.empty() || p[0] != '/') return "";
    std::string n = fs::path(p).lexically_normal().string();
    while (n.size() > 1 && n.back() == '/') n.pop_back();
    return n;
}

bool has_control_or_space(const std::string& s) {
    return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

std::vector<std::string> path_list(const json& config, const char* key) {
    std::vector<std::string> out;
    if (!has_field(config, key)) return out;
    if (!config[key].is_array()) throw invalid_field(key, "must be an array of absolute paths");
    for (const auto& v : config[key]) {
        if (!v.is_string()) throw invalid_field(key, "must be an array of absolute paths");
        std::string n = normal_absolute(v.get<std::string>());
        if (n.empty()) throw invalid_field(key, "'" + v.get<std::string>() + "' is not an absolute path");
        out.push_back(n);
    }
    return out;
}

bool contains(const std::vector<std::string>& list, const std::string& x) {
    return std::find(list.begin(), list.end(), x) != list.end();
}

// A hub name part: what the Hugging Face Hub accepts for an owner or a repository name.
bool hub_part_ok(const std::string& p) {
    if (p.empty() || p.size() > 96) return false;
    if (p.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos)
        return false;
    if (p.front() == '-' || p.front() == '.' || p.back() == '-' || p.back() == '.') return false;
    return p.find("--") == std::string::npos && p.find("..") == std::string::npos;
}

// A branch or tag name (git's rules, narrowed) or a 40-hex commit.
bool revision_ok(const std::string& r) {
    if (r.empty() || r.size() > 128) return false;
    if (r.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-") != std::string::npos)
        return false;
    if (r.front() == '-' || r.front() == '/' || r.front() == '.' || r.back() == '/' || r.back() == '.') return false;
    return r.find("..") == std::string::npos && r.find("//") == std::string::npos;
}

bool inside(const std::string& path, const std::string& root) {
    if (root == "/") return true;
    return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                            path[root.size()] == '/');
}

}  // namespace

launch_policy read_launch_policy(const json& config) {
    launch_policy p;
    p.venvs = path_list(config, "venvs");
    std::stringstream env_venvs(env_text("OMNIHOST_VENVS"));
    for (std::string v; std::getline(env_venvs, v, ':');) {
        std::string n = normal_absolute(v);
        if (!n.empty()) p.venvs.push_back(n);  // a relative entry in the variable is ignored
    }
    const std::string env_trust = env_text("OMNIHOST_ALLOW_TRUST_REMOTE_CODE");
    p.allow_trust_remote_code = get_bool(config, "allow_trust_remote_code", env_trust == "1" || env_trust == "true");
    p.stage_configs_paths = path_list(config, "stage_configs_paths");
    if (has_field(config, "vllm_extra_args")) {
        const json& a = config["vllm_extra_args"];
        if (!a.is_array()) throw invalid_field("vllm_extra_args", "must be an array of strings");
        for (const auto& x : a) {
            if (!x.is_string()) throw invalid_field("vllm_extra_args", "must be an array of strings");
            p.extra_serve_args.push_back(x.get<std::string>());
        }
    }
    p.bind_host = get_string(config, "bind_host", "127.0.0.1");
    if (p.bind_host.empty() || has_control_or_space(p.bind_host) || p.bind_host[0] == '-')
        throw invalid_field("bind_host", "must be an address such as 127.0.0.1");
    p.model_roots = path_list(config, "model_roots");
    if (has_field(config, "data_dir")) {
        std::string d = normal_absolute(get_string(config, "data_dir"));
        if (!d.empty()) p.model_roots.push_back(d);
    }
    const char* acc_env = std::getenv("OMNIHOST_CONTAINER_ACCELERATOR");
    p.accelerator = get_string(config, "accelerator", acc_env ? acc_env : "");
    if (!p.accelerator.empty() && p.accelerator != "nvidia" && p.accelerator != "amd" && p.accelerator != "none")
        throw invalid_field("accelerator", "must be nvidia, amd or none");
    return p;
}

model_ref validate_model_id(const std::string& model) {
    if (model.empty()) throw invalid_field("model", "is required");
    if (model.size() > 1024) throw invalid_field("model", "is longer than 1024 characters");
    if (has_control_or_space(model)) throw invalid_field("model", "must not contain spaces or control characters");
    if (model[0] == '-') throw invalid_field("model", "must not start with '-'");
    model_ref ref;
    if (model[0] == '/' || model[0] == '~') {
        ref.id = normal_absolute(model);
        ref.local_path = true;
        return ref;
    }
    std::string id = model;
    if (auto at = id.find('@'); at != std::string::npos) {
        ref.revision = id.substr(at + 1);
        id = id.substr(0, at);
        if (!revision_ok(ref.revision))
            throw invalid_field("model", "revision '" + ref.revision +
                                             "' must be a branch or tag name ([A-Za-z0-9._/-]) or a 40-hex commit");
    }
    auto slash = id.find('/');
    const bool ok = slash == std::string::npos
                        ? hub_part_ok(id)
                        : id.find('/', slash + 1) == std::string::npos && hub_part_ok(id.substr(0, slash)) &&
                              hub_part_ok(id.substr(slash + 1));
    if (!ok)
        throw invalid_field("model", "must be a hub id (name or org/name, letters, digits, '.', '_', '-', "
                                     "optionally @revision) or an absolute local path");
    ref.id = id;
    return ref;
}

void apply_launch_policy(serve_settings& s, const json& start, const launch_policy& policy, bool local_paths_ok) {
    model_ref ref = validate_model_id(s.model);
    if (ref.local_path) {
        if (!local_paths_ok)
            throw invalid_field("model", "a local path is not visible inside the container; use a hub id (the "
                                         "Hugging Face cache is mounted)");
        // Only the root test, never an existence test outside the roots: the answer must not tell
        // a requester which paths exist on this machine.
        const bool allowed = std::any_of(policy.model_roots.begin(), policy.model_roots.end(),
                                         [&](const std::string& r) { return inside(ref.id, r); });
        if (!allowed)
            throw invalid_field("model", "a local model path must lie inside the operator's model roots (the data "
                                         "dir or plugin_config model_roots)");
    }
    s.model = ref.id;
    s.revision = ref.revision;

    if (has_field(start, "vllm_extra_args"))
        throw invalid_field("vllm_extra_args", "extra vllm flags are an operator setting (plugin_config "
                                               "vllm_extra_args); a start request cannot add flags");
    s.extra_serve_args = policy.extra_serve_args;

    if (!s.venv_path.empty()) {
        const std::string n = normal_absolute(s.venv_path);
        if (n.empty() || !contains(policy.venvs, n))
            throw invalid_field("venv_path", "not one of the operator's venvs (plugin_config venvs or "
                                             "OMNIHOST_VENVS)");
        s.venv_path = n;
    }
    if (!s.stage_configs_path.empty()) {
        const std::string n = normal_absolute(s.stage_configs_path);
        if (n.empty() || !contains(policy.stage_configs_paths, n))
            throw invalid_field("stage_configs_path", "not one of the operator's stage configs (plugin_config "
                                                      "stage_configs_paths)");
        s.stage_configs_path = n;
    }
    if (s.trust_remote_code && !policy.allow_trust_remote_code)
        throw invalid_field("trust_remote_code", "refused: it runs code from the model repository; the operator "
                                                 "allows it with plugin_config allow_trust_remote_code");
    s.bind_host = policy.bind_host;
    s.accelerator = policy.accelerator.empty() ? "nvidia" : policy.accelerator;
}

}  // namespace omnihost::proxy
