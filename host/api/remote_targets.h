// remote_targets.h — which servers a start request may make a plugin connect to. A start
// setting declared "format": "url" in a plugin's start parameters (remote_proxy's remote_url)
// is a place the host will send requests and whose answers it passes back: left to any request,
// the host becomes a proxy into the operator's network (SSRF), loopback services included. So a
// URL the request itself supplies must name a server the operator listed with --remote-allow
// (host:port); a URL the recipe supplies is the operator's own and passes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_io.h"

namespace omnihost {

// For every "format": "url" start parameter of the plugin: a value the request sent, unless it is
// the recipe's own (`recipe_start`: the recipe's start settings), must resolve to an endpoint in
// `allowed`; otherwise 403 naming the field (400 for a URL whose server cannot be told).
std::optional<api_error> check_remote_targets(const nlohmann::json &request, const nlohmann::json &recipe_start,
                                             const nlohmann::json &plugin_start_parameters,
                                             const std::vector<std::string> &allowed);

} // namespace omnihost
