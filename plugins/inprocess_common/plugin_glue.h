// The C-ABI entry table shared by the in-process plugins, built on the plugin SDK
// (omnihost_plugin.hpp): every member runs inside sdk::guard, so every exception becomes a status
// plus the reason in the call's error buffer; nothing C++ crosses into the host. Header-only, so
// every type stays inside the plugin that instantiates it (the plugin's Traits type lives in an
// anonymous namespace; only the entry symbol is exported).
//
// A plugin supplies a Traits type:
//   static constexpr const char *id, *version;
//   static omnihost_instance *create(const omnihost_host *host, const std::string &config_json);
//   static void destroy(omnihost_instance *inst);
//   static Impl &impl(omnihost_instance *inst);  // start, health, generate, release, stop, log,
//                                                // command_preview (text as std::string)
//   // Called inside a catch handler: rethrows the current exception (`throw;`) and maps the
//   // plugin's own exception types to a status and message, handing the rest to
//   // translate_model_exception (error_translation.h); anything else it lets propagate.
//   // `inst` may be null (a call that failed before reaching an instance).
//   static omnihost_status translate(omnihost_instance *inst, bool loading, std::string &message);
#pragma once

#include "inprocess_error.h"
#include "omnihost_plugin.hpp"

#include <string>

namespace omnihost::inprocess {

using sdk::looks_like_oom;

// sdk::guard with the plugin's translator. `loading`: start-time calls, where the plugin maps
// model errors to INVALID_ARGUMENT naming "model". With `inst`, failures other than cancellation
// are logged too.
template <typename Traits, typename Fn>
omnihost_status guarded(omnihost_instance *inst, bool loading, char *error_buf, size_t error_cap, Fn &&fn) noexcept {
    std::string message;
    const omnihost_status status = sdk::guard(
        error_buf, error_cap, fn, [inst, loading](std::string &m) { return Traits::translate(inst, loading, m); },
        &message);
    if (inst && status != OMNIHOST_OK && status != OMNIHOST_CANCELLED) {
        try {
            Traits::impl(inst).log(OMNIHOST_LOG_ERROR, message);
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
        return sdk::guard(error_buf, error_cap, [&] {
            if (!out) throw plugin_error(OMNIHOST_INVALID_ARGUMENT, "out: must not be NULL");
            if (!OMNIHOST_HAS_MEMBER(host, log) || !host->log)
                throw plugin_error(OMNIHOST_INVALID_ARGUMENT, "host: table with a log callback required");
            *out = Traits::create(host, config_json ? config_json : "{}");
        });
    }

    static void destroy(omnihost_instance *inst) noexcept {
        if (!inst) return;
        try {
            Traits::destroy(inst);
        } catch (...) {
        }
    }

    static omnihost_status start(omnihost_instance *inst, const char *start_json, const omnihost_job *job,
                                 char *error_buf, size_t error_cap) noexcept {
        return guarded<Traits>(inst, true, error_buf, error_cap, [&] {
            if (!inst) throw plugin_error(OMNIHOST_INVALID_ARGUMENT, "inst: must not be NULL");
            Traits::impl(inst).start(start_json ? start_json : "{}", job);
        });
    }

    static omnihost_status health(omnihost_instance *inst, char *out, size_t out_cap, size_t *out_len,
                                  char *error_buf, size_t error_cap) noexcept {
        return sdk::guard(error_buf, error_cap, [&] {
            if (!inst || !out_len) throw plugin_error(OMNIHOST_INVALID_ARGUMENT, "inst and out_len: must not be NULL");
            sdk::answer_text(Traits::impl(inst).health(), out, out_cap, out_len);
        });
    }

    static omnihost_status generate(omnihost_instance *inst, const char *request_json, const omnihost_job *job,
                                    omnihost_result **out, char *error_buf, size_t error_cap) noexcept {
        if (out) *out = nullptr;
        return guarded<Traits>(inst, false, error_buf, error_cap, [&] {
            if (!inst || !out) throw plugin_error(OMNIHOST_INVALID_ARGUMENT, "inst and out: must not be NULL");
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

    static omnihost_status stop(omnihost_instance *inst, char *error_buf, size_t error_cap) noexcept {
        return guarded<Traits>(inst, false, error_buf, error_cap, [&] {
            if (!inst) throw plugin_error(OMNIHOST_INVALID_ARGUMENT, "inst: must not be NULL");
            Traits::impl(inst).stop();
        });
    }

    static omnihost_status command_preview(omnihost_instance *inst, const char *start_json, char *out,
                                           size_t out_cap, size_t *out_len, char *error_buf,
                                           size_t error_cap) noexcept {
        return guarded<Traits>(inst, true, error_buf, error_cap, [&] {
            if (!inst || !out_len) throw plugin_error(OMNIHOST_INVALID_ARGUMENT, "inst and out_len: must not be NULL");
            sdk::answer_text(Traits::impl(inst).command_preview(start_json ? start_json : "{}"), out, out_cap,
                             out_len);
        });
    }

    static const void *get_extension(const omnihost_instance *, const char *) noexcept { return nullptr; }

    static constexpr omnihost_plugin_entry table = {
        OMNIHOST_ABI_MAJOR, OMNIHOST_ABI_MINOR, sizeof(omnihost_plugin_entry), Traits::id, Traits::version,
        create, destroy, start, health, generate, release_result, stop, command_preview, get_extension,
    };
};

}  // namespace omnihost::inprocess
