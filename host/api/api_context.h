// api_context.h — what the HTTP handlers share: options, catalogues, the plugin registry, the
// runtime slot, the log bus and the preview service. Owned by the application; outlives the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "api/browser_guard.h"
#include "config/host_options.h"
#include "log_bus/log_bus.h"
#include "plugin_loader/registry.h"
#include "recipes/recipe_catalog.h"
#include "slot/runtime_slot.h"

namespace omnihost {

class preview_service;
class settings_store;
namespace metrics { class host_metric_set; }
namespace jobs { class job_service; }

struct api_context {
    host_options options;
    uint16_t bound_port = 0;
    browser_policy browser;                 // Host/Origin allow-lists, built once the socket is bound
    recipe_catalog recipes;
    nlohmann::json models;                 // GET /api/omni/models body, built at start-up
    plugin_loader::registry *plugins = nullptr;
    log_bus::bus *bus = nullptr;
    runtime_slot *slot = nullptr;
    preview_service *preview = nullptr;
    settings_store *settings = nullptr;     // GET/POST /api/settings
    metrics::host_metric_set *metrics = nullptr; // GET /metrics and the router's request counting
    jobs::job_service *jobs = nullptr;      // the job queue (host/jobs); null when the host has none
};

} // namespace omnihost
