// host_features.h — what this machine offers a start: container runtimes, the operator's Python
// venvs, GPUs, plugins (GET /api/features); and whether a venv holds vLLM-Omni
// (POST /api/omni/check-venv). Only venvs the operator listed are ever executed.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugin_loader/registry.h"

namespace omnihost {

// The operator's venvs: plugin_config.subprocess_proxy.venvs plus $OMNIHOST_VENVS (':'-separated),
// normalised (absolute, no trailing '/').
std::vector<std::string> operator_venvs(const std::string &plugin_config_json);

// A path as the venv rules compare it: '~' expanded, absolute, '.'/'..' resolved, no trailing '/'.
std::string normal_venv_path(const std::string &path);

// The features answer: {"container_mode", "container_runtime", "container_runtimes", "venvs",
// "gpus", "plugins", "vllm_binary"}.
nlohmann::json detect_features(const plugin_loader::registry &plugins, const std::string &plugin_config_json);

// The check-venv answer (the playground's shape): {"vllm_omni_installed", "vllm_omni_version",
// "detection_method", "error"?}. Runs the venv's python (import, pip list, uv pip list).
nlohmann::json check_venv(const std::string &venv_path, const std::string &plugin_config_json);

} // namespace omnihost
