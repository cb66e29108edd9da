// What a start request may make the proxies run, and what only the operator decides.
//
// The start request comes over HTTP and may have been sent by any web page the user visits, so it
// is never trusted to choose executables, images, runtime flags, capabilities, arbitrary files or
// options: it picks among what the operator configured (plugin_config in the host's config file,
// the environment, the command line) and everything it names is validated so that no request text
// becomes an option of vllm. The rules are written out in plugins/proxy_common/SECURITY.md.
#pragma once

#include "vllm_command.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace omnihost::proxy {

struct launch_policy {
    // Virtual environments a request may select with venv_path (normalised absolute paths):
    // create config "venvs": [...] plus OMNIHOST_VENVS (colon-separated).
    std::vector<std::string> venvs;
    // --trust-remote-code runs Python from the model repository: only when the operator says so
    // (create config "allow_trust_remote_code": true or OMNIHOST_ALLOW_TRUST_REMOTE_CODE=1).
    bool allow_trust_remote_code = false;
    // Stage config files a request may name with stage_configs_path (create config
    // "stage_configs_paths": [...]); the YAML names worker classes, so it is code, not data.
    std::vector<std::string> stage_configs_paths;
    // Extra `vllm serve` flags (create config "vllm_extra_args"); a request cannot add any.
    std::vector<std::string> extra_serve_args;
    // Address the subprocess server binds (create config "bind_host", default loopback).
    std::string bind_host = "127.0.0.1";
    // Folders a local model path in a request may lie in (create config "model_roots" plus the
    // host's data_dir). Hub ids are not affected.
    std::vector<std::string> model_roots;
    // Accelerator (GPU flags, image choice): create config "accelerator" or
    // OMNIHOST_CONTAINER_ACCELERATOR; "" = nvidia. The request's "accelerator" is ignored.
    std::string accelerator;
};

// Reads the operator's policy from the plugin's create config and the environment. Throws
// proxy_error(INVALID_ARGUMENT) naming a malformed config field.
launch_policy read_launch_policy(const nlohmann::json& config);

// Checks a model id from a request: a hub id "name" or "org/name", optionally "@revision"
// (branch/tag names of [A-Za-z0-9._/-] or a 40-hex commit), or an absolute local path. Never a
// leading '-', whitespace or control characters. Throws invalid_field("model", ...).
struct model_ref {
    std::string id;        // what vllm serve gets as the model
    std::string revision;  // "" or the @revision (passed as --revision)
    bool local_path = false;
};
model_ref validate_model_id(const std::string& model);

// Applies the policy to settings parsed from a request: refuses (INVALID_ARGUMENT naming the field)
// a venv outside the list, trust_remote_code without the operator's consent, request-chosen stage
// configs or extra args, a local model path outside the model roots (without saying whether it
// exists); fills the operator's extra args, bind host and accelerator. `local_paths_ok` is false
// where the server cannot see host paths (containers).
void apply_launch_policy(serve_settings& s, const nlohmann::json& start, const launch_policy& policy,
                         bool local_paths_ok);

}  // namespace omnihost::proxy
