// preview_service.h — POST /api/omni/command-preview: asks the routed plugin's command_preview
// what its start would execute. Runs on its own thread with one cached instance per plugin, so a
// preview never waits for a load or a generation on the slot's worker.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "log_bus/log_bus.h"
#include "plugin_loader/plugin_instance.h"
#include "plugin_loader/registry.h"
#include "slot/runtime_slot.h"
#include "slot/serial_worker.h"

namespace omnihost {

class preview_service {
public:
    preview_service(const plugin_loader::registry &plugins, log_bus::bus &bus, std::string data_dir,
                   std::string plugin_config_json);
    ~preview_service();

    // {"mode","kind","plugin","command","argv","env","settings"}, or {"error": "..."} when the
    // plugin failed; times out after `wait`. Not redacted: the answer holds the start settings,
    // secrets included, and the API layer redacts it before it leaves the host.
    nlohmann::json preview(const start_plan &plan, std::chrono::milliseconds wait);

private:
    nlohmann::json run(const start_plan &plan);

    const plugin_loader::registry &plugins_;
    log_bus::bus &bus_;
    std::string data_dir_;
    std::string plugin_config_json_;
    omnihost_host host_table_{};
    std::map<std::string, std::unique_ptr<plugin_loader::plugin_instance>> instances_; // worker only
    serial_worker worker_;
};

} // namespace omnihost
