#include "services/plugin_backend.h"

#include <filesystem>

#include "plugin_loader/plugin_instance.h"
#include "common/json_limits.h"

namespace omnihost {
namespace {

namespace pl = plugin_loader;

// omnihost_job over job_hooks; lives on the worker's stack for one plugin call.
struct job_adapter {
    explicit job_adapter(const job_hooks &hooks) : hooks_(hooks) {
        job_.struct_size = sizeof(omnihost_job);
        job_.job_id = hooks_.job_id.c_str();
        job_.user_data = this;
        job_.progress = &job_adapter::progress;
        job_.is_cancelled = &job_adapter::is_cancelled;
        job_.emit = hooks_.emit ? &job_adapter::emit : nullptr;
    }
    const omnihost_job *get() const { return &job_; }

private:
    static void progress(void *self, int32_t step, int32_t total, const char *phase, const char *message) {
        auto *adapter = static_cast<job_adapter *>(self);
        if (!adapter->hooks_.progress) return;
        try {
            adapter->hooks_.progress(step, total, phase ? phase : "", message ? message : "");
        } catch (...) {
            // A callback into the host must never unwind into the plugin.
        }
    }
    static int32_t is_cancelled(void *self) {
        auto *adapter = static_cast<job_adapter *>(self);
        return adapter->hooks_.is_cancelled && adapter->hooks_.is_cancelled() ? 1 : 0;
    }
    static void emit(void *self, const char *event_json) {
        auto *adapter = static_cast<job_adapter *>(self);
        if (!event_json) return;
        try {
            adapter->hooks_.emit(event_json);
        } catch (...) {
        }
    }
    const job_hooks &hooks_;
    omnihost_job job_{};
};

backend_status from_error(const pl::loader_error &error) {
    return {error.status, error.detail.empty() ? error.what() : error.detail};
}

class plugin_backend final : public slot_backend {
public:
    explicit plugin_backend(pl::plugin_instance instance) : instance_(std::move(instance)) {}

    backend_status start(const std::string &start_json, const job_hooks &hooks) override {
        job_adapter job(hooks);
        try {
            instance_.start(start_json, job.get());
            return {};
        } catch (const pl::loader_error &e) {
            return from_error(e);
        }
    }

    backend_status health(std::string &out_json) override {
        try {
            out_json = instance_.health();
            return {};
        } catch (const pl::loader_error &e) {
            return from_error(e);
        }
    }

    backend_status generate(const std::string &request_json, const job_hooks &hooks,
                           backend_result &out) override {
        job_adapter job(hooks);
        try {
            pl::result_handle result = instance_.generate(request_json, job.get());
            if (!result) return {OMNIHOST_INTERNAL, "the plugin returned OK without a result"};
            if (result.data() && result.size() > 0)
                out.data.assign(reinterpret_cast<const char *>(result.data()), result.size());
            out.mime_type = std::string(result.mime_type());
            out.metadata_json = std::string(result.metadata_json());
            if (out.metadata_json.empty()) out.metadata_json = "{}";
            return {};
        } catch (const pl::loader_error &e) {
            return from_error(e);
        }
    }

    backend_status stop() override {
        try {
            instance_.stop();
            return {};
        } catch (const pl::loader_error &e) {
            return from_error(e);
        }
    }

private:
    pl::plugin_instance instance_;
};

} // namespace

std::string plugin_create_config(const pl::plugin_record &record, const std::string &data_dir,
                                 const std::string &plugin_config_json) {
    std::error_code ec;
    const auto absolute_data = std::filesystem::absolute(data_dir, ec);
    nlohmann::json config = nlohmann::json::object();
    const auto operator_settings = parse_json_bounded_or_discarded(plugin_config_json);
    if (operator_settings.is_object() && operator_settings.contains(record.manifest.id) &&
        operator_settings[record.manifest.id].is_object())
        config = operator_settings[record.manifest.id];
    config["plugin_id"] = record.manifest.id;
    config["plugin_dir"] = record.manifest.manifest_path.parent_path().string();
    config["data_dir"] = ec ? data_dir : absolute_data.lexically_normal().string();
    return config.dump();
}

omnihost_host make_host_table(log_bus::bus &bus) {
    omnihost_host host{};
    host.struct_size = sizeof(omnihost_host);
    host.user_data = &bus;
    host.log = &::omnihost_log_bus_plugin_log;
    return host;
}

backend_factory make_plugin_backend_factory(const pl::registry &plugins, log_bus::bus &bus,
                                           std::string data_dir, std::string plugin_config_json) {
    return [&plugins, &bus, data_dir, plugin_config_json](const std::string &plugin_id,
                                      std::string &error) -> std::unique_ptr<slot_backend> {
        const pl::plugin_record *record = plugins.find(plugin_id);
        if (!record || !record->available || !record->library) {
            error = "plugin '" + plugin_id + "' is not available" +
                    (record ? ": " + record->reason : std::string());
            return nullptr;
        }
        try {
            auto instance = pl::plugin_instance::create(record->library, make_host_table(bus),
                                                        plugin_create_config(*record, data_dir, plugin_config_json));
            return std::make_unique<plugin_backend>(std::move(instance));
        } catch (const pl::loader_error &e) {
            error = e.what();
            return nullptr;
        }
    };
}

} // namespace omnihost
