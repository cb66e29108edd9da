// plugin_backend.h — the runtime slot's Backend implemented over the plugin loader's instance
// wrapper: status codes in, loader_error caught, results copied out and released at once.
#pragma once

#include <string>

#include "log_bus/log_bus.h"
#include "plugin_loader/registry.h"
#include "slot/backend.h"

namespace omnihost {

// What a plugin instance receives in create(): the operator's settings for that plugin
// (host_options::plugin_config_json[id]) plus {"plugin_id","plugin_dir","data_dir"} from the host.
std::string plugin_create_config(const plugin_loader::plugin_record &record,
                                 const std::string &data_dir, const std::string &plugin_config_json);

// A factory creating instances of registry plugins whose log callback feeds `bus`.
// The registry and the bus must outlive every backend it makes.
backend_factory make_plugin_backend_factory(const plugin_loader::registry &plugins,
                                           log_bus::bus &bus, std::string data_dir,
                                           std::string plugin_config_json);

// The host table plugins log through (user_data = the bus).
omnihost_host make_host_table(log_bus::bus &bus);

} // namespace omnihost
