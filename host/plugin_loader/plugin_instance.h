// C++ side of one plugin instance: RAII over create/destroy, status codes turned into
// loader_error of kind plugin_call (status + the reason the plugin wrote into the call's error buffer), text answers
// (health, command preview) read through caller buffers, results owned by a move-only handle that
// gives them back with release_result. Nothing a plugin does through this wrapper can throw
// anything but that loader_error into the host: a foreign exception escaping a (buggy C++) plugin is
// caught at the call and reported as INTERNAL.
#pragma once

#include "plugin_library.h"

#include <omnihost_plugin.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace omnihost::plugin_loader {

// "OK", "INVALID_ARGUMENT", "NOT_SUPPORTED", "OUT_OF_MEMORY", "CANCELLED", "UNAVAILABLE",
// "INTERNAL", or "STATUS_<n>" for a value this host does not know.
const char *status_name(omnihost_status status);

namespace detail { struct instance_core; }

// A generate() result. Move-only; releases the result (release_result) when destroyed, also after
// the plugin_instance object is gone (the instance is destroyed only after its last result).
class result_handle {
public:
    result_handle() = default;
    ~result_handle();
    result_handle(result_handle &&other) noexcept;
    result_handle &operator=(result_handle &&other) noexcept;
    result_handle(const result_handle &) = delete;
    result_handle &operator=(const result_handle &) = delete;

    explicit operator bool() const { return result_ != nullptr; }
    const uint8_t *data() const;
    uint64_t size() const;
    std::string_view mime_type() const;      // "" if the plugin left it NULL (a contract breach)
    std::string_view metadata_json() const;  // "" if NULL
    void reset();                            // release now

private:
    friend class plugin_instance;
    result_handle(std::shared_ptr<detail::instance_core> core, omnihost_result *result);
    std::shared_ptr<detail::instance_core> core_;
    omnihost_result *result_ = nullptr;
};

// The host table with std::function behind it (tests, the conformance of C++ callers). The host
// proper may instead fill omnihost_host itself, e.g. with omnihost_log_bus_plugin_log.
class host_binding {
public:
    using log_fn = std::function<void(omnihost_log_level, std::string_view source, std::string_view message)>;
    explicit host_binding(log_fn log);
    const omnihost_host &table() const { return host_; }

private:
    static void log_trampoline(void *user_data, omnihost_log_level level, const char *source,
                               const char *message);
    log_fn log_;
    omnihost_host host_{};
};

// One job's callbacks (progress, cancel flag, emit) as an omnihost_job. Keep it alive for the
// whole start()/generate() call. request_cancel() may be called from any thread.
class job_binding {
public:
    using progress_fn = std::function<void(int32_t step, int32_t total, std::string_view phase,
                                           std::string_view message)>;
    using emit_fn = std::function<void(std::string_view event_json)>;
    explicit job_binding(std::string job_id, progress_fn progress = {}, emit_fn emit = {});
    job_binding(const job_binding &) = delete;
    job_binding &operator=(const job_binding &) = delete;

    const omnihost_job *job() const { return &job_; }
    void request_cancel() { cancelled_.store(true, std::memory_order_relaxed); }
    bool cancel_requested() const { return cancelled_.load(std::memory_order_relaxed); }
    const std::string &id() const { return id_; }

private:
    static void progress_trampoline(void *, int32_t, int32_t, const char *, const char *);
    static int32_t cancelled_trampoline(void *);
    static void emit_trampoline(void *, const char *);
    std::string id_;
    progress_fn progress_;
    emit_fn emit_;
    std::atomic<bool> cancelled_{false};
    omnihost_job job_{};
};

class plugin_instance {
public:
    // create(host, config_json). The host table is copied; what its user_data points to must
    // outlive the instance and its results. Throws loader_error (plugin_call) with create's error_buf text.
    static plugin_instance create(std::shared_ptr<plugin_library> library, const omnihost_host &host,
                                  std::string_view config_json = "{}");

    plugin_instance(plugin_instance &&) noexcept = default;
    plugin_instance &operator=(plugin_instance &&) noexcept = default;
    ~plugin_instance();  // destroy (after the last result_handle is gone)

    // Each throws loader_error (plugin_call) on a non-OK status. `job` may be null (no progress, never cancelled).
    void start(std::string_view start_json, const omnihost_job *job);
    result_handle generate(std::string_view request_json, const omnihost_job *job);
    void stop();

    // Health JSON ({"ready":..,"failed":..,"message":..}). Any thread, no lock: the plugin writes
    // into a buffer of this call's own.
    std::string health();
    // Preview JSON, or nullopt when the plugin has no command_preview member. Any thread.
    std::optional<std::string> command_preview(std::string_view start_json);

    const plugin_library &library() const;
    const std::string &id() const;

private:
    explicit plugin_instance(std::shared_ptr<detail::instance_core> core) : core_(std::move(core)) {}
    std::shared_ptr<detail::instance_core> core_;
};

}  // namespace omnihost::plugin_loader
