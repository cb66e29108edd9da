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

class PreviewService;
class SettingsStore;
namespace metrics { class HostMetrics; }
namespace jobs { class JobService; }

struct ApiContext {
    HostOptions options;
    uint16_t bound_port = 0;
    BrowserPolicy browser;                 // Host/Origin allow-lists, built once the socket is bound
    RecipeCatalog recipes;
    nlohmann::json models;                 // GET /api/omni/models body, built at start-up
    plugin_loader::registry *plugins = nullptr;
    log_bus::bus *bus = nullptr;
    RuntimeSlot *slot = nullptr;
    PreviewService *preview = nullptr;
    SettingsStore *settings = nullptr;     // GET/POST /api/settings
    metrics::HostMetrics *metrics = nullptr; // GET /metrics and the router's request counting
    jobs::JobService *jobs = nullptr;      // the job queue (host/jobs); null when the host has none
};

} // namespace omnihost
