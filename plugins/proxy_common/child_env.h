// The environment a child process gets: an allow-list of the host's variables (locale, paths,
// Hugging Face, CUDA/ROCm, vLLM and PyTorch settings, proxies, the container runtime's own), the
// variables the operator and the start add, and the owner marker (leftovers.h). Everything else
// of the host's environment stays behind: above all OMNIHOST_TOKEN, and any secret the host was
// started with that the child has no use for.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace omnihost::proxy {

// True when a variable of the host's environment may pass to children.
bool env_name_inherited(const std::string& name, const std::vector<std::string>& extra_names);

// `host_env` filtered by the allow-list (plus `extra_names`), then `unset` removed, then `set`
// applied, then the owner marker (when `mark_owner`). OMNIHOST_TOKEN never passes, even when `set`
// names it.
std::map<std::string, std::string> child_environment(const std::map<std::string, std::string>& host_env,
                                                     const std::map<std::string, std::string>& set,
                                                     const std::vector<std::string>& unset,
                                                     const std::vector<std::string>& extra_names,
                                                     bool mark_owner = true);

// This process's environment as a map.
std::map<std::string, std::string> current_environment();

}  // namespace omnihost::proxy
