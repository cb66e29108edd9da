#include "container_command.h"

#include "child_process.h"
#include "codec.h"
#include "json_fields.h"

#include <cstdlib>
#include <sstream>

namespace omnihost::proxy {

using nlohmann::json;

namespace {

constexpr const char* kImageNvidia = "docker.io/vllm/vllm-omni:v0.14.0rc1";
constexpr const char* kImageAmd = "docker.io/vllm/vllm-omni-rocm:v0.14.0rc1";

std::vector<std::string> string_array(const json& j, const char* key) {
    std::vector<std::string> out;
    if (!has_field(j, key)) return out;
    if (!j[key].is_array()) throw invalid_field(key, "must be an array of strings");
    for (const auto& x : j[key]) {
        if (!x.is_string()) throw invalid_field(key, "must be an array of strings");
        out.push_back(x.get<std::string>());
    }
    return out;
}

std::string home_path(const std::string& p) {
    if (p.rfind("~/", 0) == 0 || p == "~") {
        const char* home = std::getenv("HOME");
        return std::string(home ? home : "/root") + p.substr(1);
    }
    return p;
}

}  // namespace

// Operator settings come from the create config; each has an environment fallback because the
// host does not (yet) pass per-plugin configuration.
static std::string env_or(const char* name, const std::string& def) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : def;
}

static std::vector<std::string> split_words(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string w;
    while (ss >> w) out.push_back(w);
    return out;
}

container_config read_container_config(const json& config) {
    container_config c;
    c.runtime_args = has_field(config, "runtime_args") ? string_array(config, "runtime_args")
                                                       : split_words(env_or("OMNIHOST_CONTAINER_RUNTIME_ARGS", ""));
    c.run_args = has_field(config, "run_args") ? string_array(config, "run_args")
                                               : split_words(env_or("OMNIHOST_CONTAINER_RUN_ARGS", ""));
    if (has_field(config, "runtime_env")) {
        if (!config["runtime_env"].is_object()) throw invalid_field("runtime_env", "must be an object of strings");
        for (auto& [k, v] : config["runtime_env"].items()) {
            if (!v.is_string()) throw invalid_field("runtime_env." + k, "must be a string");
            c.runtime_env[k] = v.get<std::string>();
        }
    }
    c.image = get_string(config, "image", env_or("OMNIHOST_CONTAINER_IMAGE", ""));
    c.name = get_string(config, "container_name", env_or("OMNIHOST_CONTAINER_NAME", "vllm-omni-service"));
    if (c.name.empty() || c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
                              std::string::npos)
        throw invalid_field("container_name", "must be letters, digits, '_', '.' or '-'");
    c.hf_cache_dir = home_path(get_string(config, "hf_cache_dir", env_or("OMNIHOST_HF_CACHE_DIR", "~/.cache/huggingface")));
    c.accelerator = get_string(config, "accelerator", env_or("OMNIHOST_CONTAINER_ACCELERATOR", ""));
    if (!c.accelerator.empty() && c.accelerator != "nvidia" && c.accelerator != "amd" && c.accelerator != "none")
        throw invalid_field("accelerator", "must be nvidia, amd or none");

    std::string runtime = get_string(config, "runtime", env_or("OMNIHOST_CONTAINER_RUNTIME", "auto"));
    const char* env_path = std::getenv("PATH");
    std::string path = c.runtime_env.count("PATH") ? c.runtime_env["PATH"] : (env_path ? env_path : "");
    if (runtime == "auto") {
        if (!find_executable("podman", path).empty()) c.runtime = "podman";
        else if (!find_executable("docker", path).empty()) c.runtime = "docker";
        else
            throw proxy_error(OMNIHOST_UNAVAILABLE,
                             "Container mode is not available. No container runtime found (podman or docker on PATH)");
    } else if (runtime == "podman" || runtime == "docker" || runtime.find('/') != std::string::npos) {
        if (find_executable(runtime, path).empty())
            throw proxy_error(OMNIHOST_UNAVAILABLE, "runtime: container runtime '" + runtime + "' not found");
        c.runtime = runtime;
    } else {
        throw invalid_field("runtime", "must be auto, podman, docker or a path to one of them");
    }
    return c;
}

bool runtime_is_docker(const container_config& c) {
    auto slash = c.runtime.rfind('/');
    std::string base = slash == std::string::npos ? c.runtime : c.runtime.substr(slash + 1);
    return base.find("docker") != std::string::npos;
}

std::string container_image(const container_config& c, const serve_settings& s) {
    if (!c.image.empty()) return c.image;
    return s.accelerator == "amd" ? kImageAmd : kImageNvidia;
}

std::vector<std::string> gpu_flags(bool docker, const std::string& accelerator, const std::string& gpu_device) {
    std::vector<std::string> f;
    if (accelerator == "none") return f;
    if (accelerator == "amd")
        return {"--group-add=video", "--cap-add=SYS_PTRACE", "--security-opt", "seccomp=unconfined",
                "--device", "/dev/kfd", "--device", "/dev/dri"};
    if (docker) {
        // The quotes are part of the value: docker's --gpus parses CSV, and "device=0,1" has a comma.
        f = {"--gpus", gpu_device.empty() ? "all" : "\"device=" + gpu_device + "\""};
        return f;
    }
    if (gpu_device.empty()) {
        f = {"--device", "nvidia.com/gpu=all"};
    } else {
        std::stringstream ss(gpu_device);
        std::string id;
        while (std::getline(ss, id, ','))
            if (!id.empty()) f.insert(f.end(), {"--device", "nvidia.com/gpu=" + id});
    }
    f.push_back("--security-opt=label=disable");
    return f;
}

// HF_HUB_OFFLINE of the host (omnihost --no-download sets it), "" when unset.
std::string host_hub_offline() {
    const char* v = std::getenv("HF_HUB_OFFLINE");
    return v ? std::string(v) : std::string();
}

std::string container_config_hash(const serve_settings& s, const container_config& c) {
    json j = settings_json(s);
    // A container made while downloads were allowed must not be reused when they are not.
    if (!host_hub_offline().empty()) j["hf_hub_offline"] = host_hub_offline();
    j.erase("hf_token");
    j.erase("remote_api_key");
    j.erase("remote_url");
    j.erase("venv_path");
    j.erase("run_mode");
    j["hf_token_md5"] = s.hf_token.empty() ? "" : md5_hex(s.hf_token);
    j["image"] = container_image(c, s);
    j["run_args"] = c.run_args;
    j["serve_flags"] = vllm_serve_flags(s);
    j["hf_cache_dir"] = c.hf_cache_dir;
    return md5_hex(j.dump()).substr(0, 12);  // nlohmann objects are key-sorted
}

std::vector<std::string> runtime_argv(const container_config& c, std::initializer_list<std::string> args) {
    std::vector<std::string> a = {c.runtime};
    a.insert(a.end(), c.runtime_args.begin(), c.runtime_args.end());
    a.insert(a.end(), args.begin(), args.end());
    return a;
}

std::map<std::string, std::string> container_secret_env(const serve_settings& s) {
    std::map<std::string, std::string> env;
    if (!s.hf_token.empty()) {
        env["HF_TOKEN"] = s.hf_token;
        env["HUGGING_FACE_HUB_TOKEN"] = s.hf_token;
    }
    return env;
}

std::vector<std::string> container_run_argv(const serve_settings& s, const container_config& c, const std::string& hash,
                                            const std::string& owner) {
    const std::string image = container_image(c, s);
    const std::string port = std::to_string(s.port);
    // Published on loopback only: the upstream has no authentication of its own, so it must not be
    // reachable from the LAN. Inside the container vLLM listens on all addresses (it must, for the
    // published port to reach it).
    std::vector<std::string> a = runtime_argv(c, {"run", "-d", "--name", c.name, "-p", "127.0.0.1:" + port + ":" + port,
                                                  "--ipc=host", "--label", "vllm-omni.config.hash=" + hash, "--label",
                                                  "vllm-omni.image=" + image, "--label", std::string(kOwnerLabel) + "=" + owner,
                                                  "-v", c.hf_cache_dir + ":/root/.cache/huggingface"});
    auto gpu = gpu_flags(runtime_is_docker(c), s.accelerator, s.gpu_device);
    a.insert(a.end(), gpu.begin(), gpu.end());
    // Names only: the runtime copies the values from its own environment (container_secret_env),
    // so the token is in no argv and not in the container's recorded create command.
    for (const auto& [name, value] : container_secret_env(s)) a.insert(a.end(), {"-e", name});
    if (s.use_modelscope) a.insert(a.end(), {"-e", "VLLM_USE_MODELSCOPE=True"});
    // The host's --no-download holds inside the container too: the upstream downloads nothing.
    if (!host_hub_offline().empty()) a.insert(a.end(), {"-e", "HF_HUB_OFFLINE=" + host_hub_offline()});
    a.insert(a.end(), c.run_args.begin(), c.run_args.end());
    a.push_back(image);
    // Explicit command: the image's entrypoint is not reliable (the playground's note). The model
    // comes last, after "--", so it can never be read as an option.
    a.insert(a.end(), {"vllm", "serve", "--omni", "--port", port});
    auto flags = vllm_serve_flags(s);
    a.insert(a.end(), flags.begin(), flags.end());
    a.insert(a.end(), {"--", s.model});
    return a;
}

}  // namespace omnihost::proxy
