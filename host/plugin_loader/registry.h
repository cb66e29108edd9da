// The plugin registry: every manifest found in the plugin folder(s), whether its library loaded and
// why not, and routing (model_type, run_mode) -> plugin from the manifests' "routes"/"refuses".
// A bad plugin never takes the host down: it is listed with available=false and its reason.
#pragma once

#include "manifest.h"
#include "plugin_library.h"

#include <omnihost_plugin.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace omnihost::plugin_loader {

struct plugin_record {
    plugin_manifest manifest;  // for an invalid manifest: id = file stem, manifest_path set
    bool available = false;
    std::string reason;  // why unavailable ("" when available)
    std::shared_ptr<plugin_library> library;  // null when unavailable

    // {id,name,version,kind,available,reason,routes,refuses,tasks,parameters,path} for
    // GET /api/omni/plugins (reason null when available; path = the library path).
    nlohmann::json to_json() const;
};

struct scan_options {
    // Host table used for the probe create()/destroy() that proves create works. Null: a
    // table whose log callback discards lines.
    const omnihost_host *probe_host = nullptr;
    // Config JSON for the probe create(); default "{}".
    std::function<std::string(const plugin_manifest &)> probe_config;
    bool probe_create = true;
    // Called once per plugin scanned, e.g. to log "plugin x unavailable: reason". May be empty.
    std::function<void(const plugin_record &)> on_scanned;
};

// Outcome of route(): the plugin to use, or why there is none.
struct route_result {
    const plugin_record *plugin = nullptr;
    std::string refusal;  // set when plugin is null
    explicit operator bool() const { return plugin != nullptr; }
};

class registry {
public:
    registry() = default;

    // Scans `dir` (not recursive) for *.plugin.json, sorted by file name, and loads each.
    // Never throws for a bad plugin; a missing `dir` adds nothing and returns false.
    bool scan_dir(const std::filesystem::path &dir, const scan_options &options = {});
    // Adds one manifest file (same checks as scan_dir).
    const plugin_record &add_manifest(const std::filesystem::path &manifest_file,
                                      const scan_options &options = {});

    // Pointers/references into this list stay valid until the next scan_dir/add_manifest.
    const std::vector<plugin_record> &plugins() const { return records_; }
    const plugin_record *find(std::string_view id) const;

    // The first available plugin (in scan order) that lists (model_type, run_mode) in "routes".
    // Otherwise a refusal: the "reason" of a manifest that "refuses" it; or "plugin X serves
    // model_type M in run_mode R but is unavailable: <reason>"; or "no plugin serves model_type M
    // in run_mode R". Unknown vocabulary is refused too ("unknown model_type 'x'").
    route_result route(std::string_view model_type, std::string_view run_mode) const;

    // {"plugins":[record.to_json()...]}
    nlohmann::json to_json() const;

private:
    std::vector<plugin_record> records_;
};

}  // namespace omnihost::plugin_loader
