#include "child_env.h"

#include "leftovers.h"

#include <algorithm>

extern char** environ;

namespace omnihost::proxy {

namespace {

const char* const kNames[] = {
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
    "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "DBUS_SESSION_BUS_ADDRESS",
    "LD_LIBRARY_PATH", "PYTHONPATH", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "DOCKER_HOST",
    "DOCKER_CONFIG"};
const char* const kPrefixes[] = {"LC_",    "HF_",     "HUGGING_FACE_", "TRANSFORMERS_", "CUDA_",
                                 "NVIDIA_", "ROCM_",  "HIP_",          "HSA_",          "VLLM_",
                                 "TORCH_",  "PYTORCH_", "NCCL_",       "OMP_",          "MKL_",
                                 "TRITON_", "CONTAINERS_", "MODELSCOPE_"};

}  // namespace

bool env_name_inherited(const std::string& name, const std::vector<std::string>& extra_names) {
    if (name == "OMNIHOST_TOKEN") return false;
    if (std::find(extra_names.begin(), extra_names.end(), name) != extra_names.end()) return true;
    for (const char* n : kNames)
        if (name == n) return true;
    for (const char* p : kPrefixes)
        if (name.rfind(p, 0) == 0) return true;
    return false;
}

std::map<std::string, std::string> current_environment() {
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos && eq > 0) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
    }
    return env;
}

std::map<std::string, std::string> child_environment(const std::map<std::string, std::string>& host_env,
                                                     const std::map<std::string, std::string>& set,
                                                     const std::vector<std::string>& unset,
                                                     const std::vector<std::string>& extra_names,
                                                     bool mark_owner) {
    std::map<std::string, std::string> env;
    for (const auto& [k, v] : host_env)
        if (env_name_inherited(k, extra_names)) env[k] = v;
    for (const auto& k : unset) env.erase(k);
    for (const auto& [k, v] : set) env[k] = v;
    env.erase("OMNIHOST_TOKEN");
    env.erase(kOwnerEnvName);  // a marker inherited from an outer host is not ours to pass on
    if (mark_owner) env[kOwnerEnvName] = owner_marker();
    return env;
}

}  // namespace omnihost::proxy
