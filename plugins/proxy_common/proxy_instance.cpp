#include "proxy_instance.h"

#include "json_fields.h"
#include "leftovers.h"
#include "upstream_tasks.h"

#include <omnihost_plugin.hpp>

#include <common/json_limits.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>

using nlohmann::json;
using namespace omnihost::proxy;

namespace {

// One copy per plugin module (the static library is linked into each module separately).
const char* g_id = "";
const char* g_version = "";
backend_factory g_factory = nullptr;

}  // namespace

namespace omnihost::proxy {

void host_logger::server_line(const std::string& line) const {
    omnihost_log_level level = OMNIHOST_LOG_INFO;
    if (line.find("ERROR") != std::string::npos || line.find("Traceback") != std::string::npos ||
        line.find("CRITICAL") != std::string::npos)
        level = OMNIHOST_LOG_ERROR;
    else if (line.find("WARNING") != std::string::npos)
        level = OMNIHOST_LOG_WARN;
    else if (line.find("DEBUG") != std::string::npos)
        level = OMNIHOST_LOG_DEBUG;
    write(level, "vllm", line);
}

std::chrono::milliseconds config_seconds(const json& start, const json& config, const char* key, double def) {
    double v = get_number(config, key, def, 0.05, 7 * 86400.0);
    v = get_number(start, key, v, 0.05, 7 * 86400.0);
    return std::chrono::milliseconds(static_cast<long long>(v * 1000));
}

}  // namespace omnihost::proxy

struct omnihost_instance {
    const omnihost_host* host = nullptr;
    json config;
    host_logger log{nullptr, ""};
    std::unique_ptr<proxy_backend> backend;

    std::mutex state_mutex;  // guards everything below up to the next comment
    health_state health;
    bool started = false;
    serve_settings settings;
    task_timeouts timeouts;
    std::shared_ptr<upstream_client> client;

    std::thread monitor;
    std::atomic<bool> monitor_stop{false};

    omnihost::sdk::result_list results;  // handed out, not yet released
};

namespace {

// Every exception becomes a status and the reason in the caller's error buffer.
template <class F>
omnihost_status guarded(char* error_buf, size_t error_cap, F&& body) noexcept {
    return omnihost::sdk::guard(error_buf, error_cap, std::forward<F>(body));
}

json parse_json_arg(const char* text, const char* what) {
    if (!text) return json::object();
    json j = omnihost::parse_json_bounded_or_discarded(text);
    if (j.is_discarded() || !j.is_object()) throw invalid_field(what, "must be a JSON object");
    return j;
}

void stop_monitor(omnihost_instance* inst) {
    inst->monitor_stop = true;
    if (inst->monitor.joinable()) inst->monitor.join();
    inst->monitor_stop = false;
}

void monitor_loop(omnihost_instance* inst) {
    bool reported = false;
    while (!inst->monitor_stop) {
        health_state h;
        try {
            h = inst->backend->poll();
        } catch (const std::exception& e) {
            h.ready = false;
            h.message = std::string("health poll failed: ") + e.what();
        }
        {
            std::lock_guard lock(inst->state_mutex);
            inst->health = h;
        }
        if (h.failed && !reported) {
            inst->log(OMNIHOST_LOG_ERROR, h.message);
            reported = true;
        }
        for (int i = 0; i < 5 && !inst->monitor_stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

void do_stop(omnihost_instance* inst) {
    stop_monitor(inst);
    bool was_started;
    {
        std::lock_guard lock(inst->state_mutex);
        was_started = inst->started;
    }
    inst->backend->stop();
    std::lock_guard lock(inst->state_mutex);
    inst->started = false;
    inst->client.reset();
    inst->health = health_state{false, false, was_started ? "stopped" : "not started", json::object()};
}

omnihost_status p_create(const omnihost_host* host, const char* config_json, omnihost_instance** out,
                         char* error_buf, size_t error_cap) {
    if (out) *out = nullptr;
    return guarded(error_buf, error_cap, [&] {
        if (!out) throw invalid_field("out", "must not be NULL");
        auto inst = std::make_unique<omnihost_instance>();
        inst->host = host;
        inst->config = parse_json_arg(config_json, "config");
        inst->log = host_logger(OMNIHOST_HAS_MEMBER(host, log) ? host : nullptr, g_id);
        // Once per process (the host's start-up probe creates every plugin): kill what a crashed
        // host left running, before anything new is started.
        static std::once_flag leftovers_once;
        std::call_once(leftovers_once, [&] {
            for (const std::string& what : kill_orphaned_children())
                inst->log(OMNIHOST_LOG_WARN, "killed a process left by a host that is gone: " + what);
        });
        inst->backend = g_factory(inst->config, inst->log);
        inst->health.message = "not started";
        *out = inst.release();
    });
}

void p_destroy(omnihost_instance* inst) {
    if (!inst) return;
    try {
        do_stop(inst);
    } catch (...) {
    }
    inst->results.clear();
    delete inst;
}

omnihost_status p_start(omnihost_instance* inst, const char* start_json, const omnihost_job* job, char* error_buf,
                        size_t error_cap) {
    return guarded(error_buf, error_cap, [&] {
        if (!inst) throw invalid_field("inst", "must not be NULL");
        {
            std::lock_guard lock(inst->state_mutex);
            if (inst->started) throw proxy_error(OMNIHOST_INVALID_ARGUMENT, "already started; stop() first");
        }
        json start = parse_json_arg(start_json, "start");
        serve_settings settings = parse_serve_settings(start, inst->backend->requires_model());
        inst->backend->apply_policy(settings, start);
        task_timeouts timeouts = read_task_timeouts(start, read_task_timeouts(inst->config, task_timeouts{}));
        {
            std::lock_guard lock(inst->state_mutex);
            inst->health = health_state{false, false, "starting", json::object()};
        }
        start_hooks hooks;
        hooks.cancelled = [job] { return omnihost::sdk::job_cancelled(job); };
        hooks.progress = [inst, job](int step, int total, const std::string& message) {
            {
                std::lock_guard lock(inst->state_mutex);
                inst->health.message = message;
            }
            omnihost::sdk::job_progress(job, step, total, "load", message);
        };
        std::string base;
        try {
            base = inst->backend->start(settings, start, hooks);
        } catch (const proxy_error& e) {
            std::lock_guard lock(inst->state_mutex);
            inst->health = health_state{false, false, std::string("start failed: ") + e.what(), json::object()};
            if (e.status() != OMNIHOST_CANCELLED) inst->log(OMNIHOST_LOG_ERROR, std::string("start failed: ") + e.what());
            throw;
        }
        auto client = std::make_shared<upstream_client>(base, settings.remote_api_key);
        client->set_max_body_bytes(static_cast<size_t>(get_int(inst->config, "max_upstream_body_mb", 512, 1, 65536))
                                   << 20);
        // First health with the backend's extras (pid, models, ...) before start() returns.
        health_state first = inst->backend->poll();
        first.ready = !first.failed;
        if (first.ready) first.message = "ready";
        {
            std::lock_guard lock(inst->state_mutex);
            inst->settings = settings;
            inst->timeouts = timeouts;
            inst->client = client;
            inst->started = true;
            inst->health = first;
        }
        inst->monitor = std::thread(monitor_loop, inst);
        inst->log(OMNIHOST_LOG_INFO, "ready: " + settings.model + " at " + base);
    });
}

omnihost_status p_health(omnihost_instance* inst, char* out, size_t out_cap, size_t* out_len, char* error_buf,
                         size_t error_cap) {
    return guarded(error_buf, error_cap, [&] {
        if (!inst || !out_len) throw invalid_field("inst and out_len", "must not be NULL");
        json j;
        {
            std::lock_guard lock(inst->state_mutex);
            j = inst->health.extras.is_object() ? inst->health.extras : json::object();
            j["ready"] = inst->health.ready;
            j["failed"] = inst->health.failed;
            j["message"] = inst->health.message;
            j["plugin"] = g_id;
            j["run_mode"] = inst->backend->kind();
            if (inst->started) j["model"] = inst->settings.model;
        }
        omnihost::sdk::answer_text(j.dump(), out, out_cap, out_len);
    });
}

omnihost_status p_generate(omnihost_instance* inst, const char* request_json, const omnihost_job* job,
                           omnihost_result** out, char* error_buf, size_t error_cap) {
    if (out) *out = nullptr;
    return guarded(error_buf, error_cap, [&] {
        if (!inst || !out) throw invalid_field("inst and out", "must not be NULL");
        std::shared_ptr<upstream_client> client;
        std::string model;
        task_timeouts timeouts;
        {
            std::lock_guard lock(inst->state_mutex);
            if (!inst->started) throw proxy_error(OMNIHOST_UNAVAILABLE, "not started");
            if (inst->health.failed) throw proxy_error(OMNIHOST_UNAVAILABLE, inst->health.message);
            client = inst->client;
            model = inst->settings.model;
            timeouts = inst->timeouts;
        }
        json request = parse_json_arg(request_json, "request");
        task_hooks hooks;
        hooks.cancelled = [job] { return omnihost::sdk::job_cancelled(job); };
        hooks.progress = [job](int step, int total, const std::string& phase, const std::string& msg) {
            omnihost::sdk::job_progress(job, step, total, phase.c_str(), msg);
        };
        if (omnihost::sdk::job_can_emit(job))
            hooks.emit = [job](const std::string& ev) { omnihost::sdk::job_emit(job, ev); };
        hooks.log = [inst](omnihost_log_level l, const std::string& m) { inst->log(l, m); };

        task_result r;
        try {
            r = run_upstream_task(*client, model, request, timeouts, hooks);
        } catch (const proxy_error& e) {
            if (e.status() != OMNIHOST_CANCELLED)
                inst->log(OMNIHOST_LOG_WARN, "generate failed: " + std::string(e.what()));
            throw;
        }
        std::vector<uint8_t> bytes(r.bytes.begin(), r.bytes.end());
        *out = inst->results.add(std::move(bytes), r.mime, r.metadata.dump());
    });
}

void p_release_result(omnihost_instance* inst, omnihost_result* result) {
    if (!inst || !result) return;
    inst->results.release(result);
}

omnihost_status p_stop(omnihost_instance* inst, char* error_buf, size_t error_cap) {
    return guarded(error_buf, error_cap, [&] {
        if (!inst) throw invalid_field("inst", "must not be NULL");
        do_stop(inst);
    });
}

omnihost_status p_command_preview(omnihost_instance* inst, const char* start_json, char* out, size_t out_cap,
                                  size_t* out_len, char* error_buf, size_t error_cap) {
    return guarded(error_buf, error_cap, [&] {
        if (!inst || !out_len) throw invalid_field("inst and out_len", "must not be NULL");
        json start = parse_json_arg(start_json, "start");
        serve_settings s = parse_serve_settings(start, inst->backend->requires_model());
        inst->backend->apply_policy(s, start);
        omnihost::sdk::answer_text(inst->backend->preview(s, start).dump(), out, out_cap, out_len);
    });
}

const void* p_get_extension(const omnihost_instance*, const char*) { return nullptr; }

}  // namespace

namespace omnihost::proxy {

const omnihost_plugin_entry* make_proxy_entry(const char* id, const char* version, backend_factory factory) {
    g_id = id;
    g_version = version;
    g_factory = factory;
    static omnihost_plugin_entry entry{};
    entry.abi_major = OMNIHOST_ABI_MAJOR;
    entry.abi_minor = OMNIHOST_ABI_MINOR;
    entry.struct_size = sizeof(omnihost_plugin_entry);
    entry.id = id;
    entry.version = version;
    entry.create = p_create;
    entry.destroy = p_destroy;
    entry.start = p_start;
    entry.health = p_health;
    entry.generate = p_generate;
    entry.release_result = p_release_result;
    entry.stop = p_stop;
    entry.command_preview = p_command_preview;
    entry.get_extension = p_get_extension;
    return &entry;
}

}  // namespace omnihost::proxy
