// The container run command (podman or docker) and its configuration hash, built from the same
// serve_settings as the subprocess command. Used by start() and by the preview alike.
#pragma once

#include "vllm_command.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace omnihost::proxy {

// Operator configuration of the container plugin (create JSON only: a start request must not be
// able to pick the image or add runtime flags).
struct container_config {
    std::string runtime;                 // resolved executable: "podman" / "docker" / a path
    std::vector<std::string> runtime_args;  // global flags before the subcommand
    std::vector<std::string> run_args;      // extra flags for `run`
    std::map<std::string, std::string> runtime_env;
    std::string image;                   // "" = default for the accelerator
    std::string name = "vllm-omni-service";
    std::string hf_cache_dir;            // expanded; default ~/.cache/huggingface
    std::string accelerator;             // "" = the start request's; else overrides it (e.g. "none"
                                         // on a host without GPUs, whatever the UI sends)
};

// Reads the create config (fallbacks: OMNIHOST_CONTAINER_RUNTIME, _IMAGE, _NAME, _RUNTIME_ARGS,
// _RUN_ARGS (split on spaces), _ACCELERATOR, OMNIHOST_HF_CACHE_DIR); `runtime` "auto" picks podman, then docker, from PATH (of runtime_env
// if it sets PATH). Throws proxy_error (INVALID_ARGUMENT for bad fields, UNAVAILABLE when no
// runtime exists).
container_config read_container_config(const nlohmann::json& config);

bool runtime_is_docker(const container_config& c);
std::string container_image(const container_config& c, const serve_settings& s);

// GPU flags per runtime and accelerator (none for accelerator "none").
std::vector<std::string> gpu_flags(bool docker, const std::string& accelerator, const std::string& gpu_device);

// md5 of the sorted JSON of everything that shapes the container, first 12 hex digits. The HF
// token enters only as its own md5, so the label does not carry it.
std::string container_config_hash(const serve_settings& s, const container_config& c);

// Label naming the host process that started a container ("<pid>:<start ticks>", leftovers.h);
// a running container whose owner is gone is removed when the next host creates the plugin.
inline constexpr const char* kOwnerLabel = "omnihost.owner";

// [runtime, runtime_args..., "run", "-d", "--name", ..., "-p", "127.0.0.1:P:P", ..., "-e", "HF_TOKEN",
//  ..., image, "vllm", "serve", "--omni", "--port", P, flags..., "--", model]
std::vector<std::string> container_run_argv(const serve_settings& s, const container_config& c, const std::string& hash,
                                            const std::string& owner);

// Secrets for the runtime's environment (the argv names them with "-e NAME" only).
std::map<std::string, std::string> container_secret_env(const serve_settings& s);

// [runtime, runtime_args..., args...]
std::vector<std::string> runtime_argv(const container_config& c, std::initializer_list<std::string> args);

}  // namespace omnihost::proxy
