#include "services/preview_service.h"

#include <future>

#include "services/plugin_backend.h"
#include "common/json_limits.h"

namespace omnihost {

namespace pl = plugin_loader;

preview_service::preview_service(const pl::registry &plugins, log_bus::bus &bus, std::string data_dir,
                               std::string plugin_config_json)
    : plugins_(plugins), bus_(bus), data_dir_(std::move(data_dir)),
      plugin_config_json_(std::move(plugin_config_json)), host_table_(make_host_table(bus)) {}

preview_service::~preview_service() {
    worker_.post([this] { instances_.clear(); });
    worker_.shutdown(true);
}

nlohmann::json preview_service::preview(const start_plan &plan, std::chrono::milliseconds wait) {
    auto promise = std::make_shared<std::promise<nlohmann::json>>();
    auto future = promise->get_future();
    if (!worker_.post([this, plan, promise] { promise->set_value(run(plan)); }))
        return {{"error", "the host is shutting down"}};
    if (future.wait_for(wait) != std::future_status::ready)
        return {{"error", "the plugin's command_preview did not answer within " +
                              std::to_string(wait.count()) + " ms"}};
    return future.get();
}

nlohmann::json preview_service::run(const start_plan &plan) {
    nlohmann::json out = {{"mode", plan.run_mode},
                          {"kind", plan.plugin_kind},
                          {"plugin", plan.plugin_id},
                          {"model", plan.model},
                          {"model_type", plan.model_type}};
    const pl::plugin_record *record = plugins_.find(plan.plugin_id);
    if (!record || !record->library) return {{"error", "plugin '" + plan.plugin_id + "' is not available"}};
    try {
        auto &instance = instances_[plan.plugin_id];
        if (!instance)
            instance = std::make_unique<pl::plugin_instance>(pl::plugin_instance::create(
                record->library, host_table_, plugin_create_config(*record, data_dir_, plugin_config_json_)));
        std::optional<std::string> text = instance->command_preview(plan.start_json.dump());
        if (!text) {
            out["command"] = "# plugin " + plan.plugin_id + " provides no command preview";
            out["argv"] = nlohmann::json::array();
            out["env"] = nlohmann::json::object();
            out["settings"] = plan.start_json;
            return out;
        }
        nlohmann::json answer = parse_json_bounded_or_discarded(*text, {json_default_max_depth, 4u << 20});
        if (answer.is_discarded() || !answer.is_object())
            return {{"error", "plugin " + plan.plugin_id + " returned an invalid command preview"}};
        // The plugin's own kind ("inprocess", "subprocess", "container", "remote") wins: it knows
        // which of its run modes this start takes.
        for (const char *key : {"kind", "command", "argv", "env", "settings"})
            if (answer.contains(key)) out[key] = answer[key];
        if (!out.contains("command")) out["command"] = "";
        if (!out.contains("argv")) out["argv"] = nlohmann::json::array();
        if (!out.contains("env")) out["env"] = nlohmann::json::object();
        if (!out.contains("settings")) out["settings"] = plan.start_json;
        return out;
    } catch (const pl::loader_error &e) {
        return {{"error", e.what()}};
    }
}

} // namespace omnihost
