// The C-ABI edge shared by the in-process plugins: the exported function table, each member of
// which catches every exception and turns it into a status code plus last_error(); nothing C++
// crosses into the host. Header-only, so every type stays inside the plugin that instantiates it
// (the plugin's Traits type lives in an anonymous namespace; only the entry symbol is exported).
//
// A plugin supplies a Traits type:
//   static constexpr const char *id, *version;
//   static omnihost_instance *create(const omnihost_host *host, const std::string &config_json);
//   static void destroy(omnihost_instance *inst);
//   static Impl &impl(omnihost_instance *inst);  // start, health, generate, release, stop,
//                                                // last_error, set_last_error, log, command_preview
//   // Called inside a catch handler: rethrows the current exception (`throw;`) and maps the
//   // plugin's own exception types to a status and message; anything else it lets propagate.
//   static omnihost_status translate(bool loading, std::string &message);
#pragma once

#include "inprocess_error.h"
#include "omnihost_plugin.h"

#include <cstring>
#include <new>
#include <string>

namespace omnihost::inprocess {

inline bool looks_like_oom(const std::string &m) {
    return m.find("out of memory") != std::string::npos || m.find("can't allocate memory") != std::string::npos ||
           m.find("Cannot allocate memory") != std::string::npos || m.find("bad_alloc") != std::string::npos;
}

// Runs `fn`, mapping exceptions to statuses: plugin_error first, then the plugin's own types
// (Traits::translate), then the standard ones. `loading`: start-time calls, where the plugin maps
// model errors to INVALID_ARGUMENT naming "model". With `inst`, the message becomes last_error()
// and failures other than cancellation are logged.
template <typename Traits, typename Fn>
omnihost_status guarded(omnihost_instance *inst, bool loading, Fn &&fn) noexcept {
    omnihost_status status = OMNIHOST_OK;
    std::string message;
    try {
        try {
            fn();
        } catch (const plugin_error &e) {
            status = e.status;
            message = e.what();
        } catch (...) {
            status = Traits::translate(loading, message);
        }
    } catch (const std::bad_alloc &) {
        status = OMNIHOST_OUT_OF_MEMORY;
        message = "out of memory";
    } catch (const std::exception &e) {
        status = looks_like_oom(e.what()) ? OMNIHOST_OUT_OF_MEMORY : OMNIHOST_INTERNAL;
        message = e.what();
    } catch (...) {
        status = OMNIHOST_INTERNAL;
        message = "unknown error";
    }
    if (inst) {
        try {
            Traits::impl(inst).set_last_error(message);
            if (status != OMNIHOST_OK && status != OMNIHOST_CANCELLED) Traits::impl(inst).log(OMNIHOST_LOG_ERROR, message);
        } catch (...) {
        }
    }
    return status;
}

template <typename Traits>
struct entry_glue {
    static omnihost_status create(const omnihost_host *host, const char *config_json, omnihost_instance **out,
                                  char *error_buf, size_t error_cap) noexcept {
        if (out) *out = nullptr;
        std::string err;
        omnihost_status status = OMNIHOST_OK;
        try {
            if (!out) throw plugin_error(OMNIHOST_INVALID_ARGUMENT, "out: must not be NULL");
            if (!host || !host->log)
                throw plugin_error(OMNIHOST_INVALID_ARGUMENT, "host: table with a log callback required");
            *out = Traits::create(host, config_json ? config_json : "{}");
        } catch (const plugin_error &e) {
            status = e.status;
            err = e.what();
        } catch (const std::bad_alloc &) {
            status = OMNIHOST_OUT_OF_MEMORY;
            err = "out of memory";
        } catch (const std::exception &e) {
            status = OMNIHOST_INTERNAL;
            err = e.what();
        } catch (...) {
            status = OMNIHOST_INTERNAL;
            err = "unknown error";
        }
        if (status != OMNIHOST_OK && error_buf && error_cap > 0) {
            std::strncpy(error_buf, err.c_str(), error_cap - 1);
            error_buf[error_cap - 1] = '\0';
        }
        return status;
    }

    static void destroy(omnihost_instance *inst) noexcept {
        if (!inst) return;
        try {
            Traits::destroy(inst);
        } catch (...) {
        }
    }

    static omnihost_status start(omnihost_instance *inst, const char *start_json, const omnihost_job *job) noexcept {
        if (!inst) return OMNIHOST_INVALID_ARGUMENT;
        return guarded<Traits>(inst, true, [&] { Traits::impl(inst).start(start_json ? start_json : "{}", job); });
    }

    static omnihost_status health(omnihost_instance *inst, const char **out_json) noexcept {
        if (!inst || !out_json) return OMNIHOST_INVALID_ARGUMENT;
        return guarded<Traits>(nullptr, false, [&] { *out_json = Traits::impl(inst).health(); });
    }

    static omnihost_status generate(omnihost_instance *inst, const char *request_json, const omnihost_job *job,
                                    omnihost_result **out) noexcept {
        if (!inst) return OMNIHOST_INVALID_ARGUMENT;
        if (out) *out = nullptr;
        return guarded<Traits>(inst, false, [&] {
            if (!out) throw plugin_error(OMNIHOST_INVALID_ARGUMENT, "out: must not be NULL");
            *out = Traits::impl(inst).generate(request_json ? request_json : "{}", job);
        });
    }

    static void release_result(omnihost_instance *inst, omnihost_result *result) noexcept {
        if (!inst || !result) return;
        try {
            Traits::impl(inst).release(result);
        } catch (...) {
        }
    }

    static omnihost_status stop(omnihost_instance *inst) noexcept {
        if (!inst) return OMNIHOST_INVALID_ARGUMENT;
        return guarded<Traits>(inst, false, [&] { Traits::impl(inst).stop(); });
    }

    static const char *last_error(omnihost_instance *inst) noexcept {
        if (!inst) return "";
        try {
            return Traits::impl(inst).last_error();
        } catch (...) {
            return "";
        }
    }

    static omnihost_status command_preview(omnihost_instance *inst, const char *start_json,
                                           const char **out_json) noexcept {
        if (!inst || !out_json) return OMNIHOST_INVALID_ARGUMENT;
        return guarded<Traits>(inst, true,
                               [&] { *out_json = Traits::impl(inst).command_preview(start_json ? start_json : "{}"); });
    }

    static constexpr omnihost_plugin_entry table = {
        OMNIHOST_ABI_MAJOR, OMNIHOST_ABI_MINOR, sizeof(omnihost_plugin_entry), Traits::id, Traits::version,
        create, destroy, start, health, generate, release_result, stop, last_error, command_preview,
    };
};

}  // namespace omnihost::inprocess
