#include "api/remote_targets.h"

#include <algorithm>

#include "core/remote_endpoint.h"

namespace omnihost {

std::optional<api_error> check_remote_targets(const nlohmann::json &request, const nlohmann::json &recipe_start,
                                             const nlohmann::json &plugin_start_parameters,
                                             const std::vector<std::string> &allowed) {
    if (!plugin_start_parameters.is_object()) return std::nullopt;
    for (const auto &[name, spec] : plugin_start_parameters.items()) {
        if (!spec.is_object() || spec.value("format", std::string()) != "url") continue;
        // Only what the client sent is checked: a recipe's URL was written by the operator.
        if (!request.is_object() || !request.contains(name) || !request[name].is_string()) continue;
        if (recipe_start.is_object() && recipe_start.contains(name) && recipe_start[name] == request[name]) continue;
        const std::string url = request[name].get<std::string>();
        const auto first = url.find_first_not_of(" \t");
        if (first == std::string::npos) continue; // empty: the plugin's own "is required" answers
        const std::string trimmed = url.substr(first, url.find_last_not_of(" \t") - first + 1);
        std::string why;
        const auto endpoint = remote_endpoint(trimmed, &why);
        if (!endpoint) return api_error{400, name + ": " + why, name};
        if (std::find(allowed.begin(), allowed.end(), *endpoint) == allowed.end())
            return api_error{403,
                            name + ": " + *endpoint +
                                " is not a server the operator allows (the host's --remote-allow list" +
                                (allowed.empty() ? " is empty" : "") + ")",
                            name};
    }
    return std::nullopt;
}

} // namespace omnihost
