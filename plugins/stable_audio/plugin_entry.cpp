// The ABI edge: the exported entry table. Every member catches every exception and turns it into
// a status code plus last_error(); nothing C++ crosses into the host.
#include "omnihost_plugin.h"
#include "plugin_error.h"
#include "audio_instance.h"

#include "core/safetensors.h"  // model_error
#include "media/media_error.h"
#include "spm_tokenizer.h"
#include "stable_audio_pipeline/stable_audio_pipeline.h"

#include <c10/util/Exception.h>

#include <cstring>
#include <new>
#include <string>

struct omnihost_instance {
    omnihost_instance(const omnihost_host *host, omnihost::stable_audio::create_config config)
        : impl(host, std::move(config)) {}
    omnihost::stable_audio::audio_instance impl;
};

namespace {

using namespace omnihost::stable_audio;
namespace sa = omnihost::models::stable_audio;

bool looks_like_oom(const std::string &m) {
    return m.find("out of memory") != std::string::npos || m.find("can't allocate memory") != std::string::npos ||
           m.find("Cannot allocate memory") != std::string::npos || m.find("bad_alloc") != std::string::npos;
}

// Runs `fn`, mapping exceptions to statuses. `loading`: model errors during start are the user's
// model choice being wrong (INVALID_ARGUMENT naming "model"); during generate they are INTERNAL.
template <typename Fn>
omnihost_status guarded(omnihost_instance *inst, bool loading, Fn &&fn) noexcept {
    omnihost_status status = OMNIHOST_OK;
    std::string message;
    try {
        fn();
    } catch (const plugin_error &e) {
        status = e.status;
        message = e.what();
    } catch (const sa::request_error &e) {
        status = OMNIHOST_INVALID_ARGUMENT;
        message = e.field + ": " + e.what();
    } catch (const sa::generation_cancelled &) {
        status = OMNIHOST_CANCELLED;
        message = "cancelled";
    } catch (const omnihost::models::model_error &e) {
        status = loading ? OMNIHOST_INVALID_ARGUMENT : OMNIHOST_INTERNAL;
        message = std::string(loading ? "model: " : "") + e.what();
    } catch (const omnihost::text::tokenizer_error &e) {
        status = loading ? OMNIHOST_INVALID_ARGUMENT : OMNIHOST_INTERNAL;
        message = std::string(loading ? "model: tokenizer: " : "tokenizer: ") + e.what();
    } catch (const std::bad_alloc &) {
        status = OMNIHOST_OUT_OF_MEMORY;
        message = "out of memory";
    } catch (const c10::Error &e) {
        const std::string m = e.what_without_backtrace();
        status = looks_like_oom(m) ? OMNIHOST_OUT_OF_MEMORY : OMNIHOST_INTERNAL;
        message = (status == OMNIHOST_OUT_OF_MEMORY ? "out of memory: " : "libtorch: ") + m;
    } catch (const omnihost::media::media_error &e) {
        status = OMNIHOST_INTERNAL;
        message = std::string("audio export: ") + e.what();
    } catch (const std::exception &e) {
        status = looks_like_oom(e.what()) ? OMNIHOST_OUT_OF_MEMORY : OMNIHOST_INTERNAL;
        message = e.what();
    } catch (...) {
        status = OMNIHOST_INTERNAL;
        message = "unknown error";
    }
    if (inst) {
        try {
            inst->impl.set_last_error(message);
            if (status != OMNIHOST_OK && status != OMNIHOST_CANCELLED)
                inst->impl.log(OMNIHOST_LOG_ERROR, message);
        } catch (...) {
        }
    }
    return status;
}

omnihost_status sa_create(const omnihost_host *host, const char *config_json, omnihost_instance **out,
                          char *error_buf, size_t error_cap) {
    if (out) *out = nullptr;
    std::string err;
    omnihost_status status = OMNIHOST_OK;
    try {
        if (!out) throw plugin_error(OMNIHOST_INVALID_ARGUMENT, "out: must not be NULL");
        if (!host || !host->log) throw plugin_error(OMNIHOST_INVALID_ARGUMENT, "host: table with a log callback required");
        auto cfg = parse_create_config(config_json ? config_json : "{}");
        *out = new omnihost_instance(host, std::move(cfg));
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

void sa_destroy(omnihost_instance *inst) {
    if (!inst) return;
    try {
        delete inst;
    } catch (...) {
    }
}

omnihost_status sa_start(omnihost_instance *inst, const char *start_json, const omnihost_job *job) {
    if (!inst) return OMNIHOST_INVALID_ARGUMENT;
    return guarded(inst, true, [&] { inst->impl.start(start_json ? start_json : "{}", job); });
}

omnihost_status sa_health(omnihost_instance *inst, const char **out_json) {
    if (!inst || !out_json) return OMNIHOST_INVALID_ARGUMENT;
    return guarded(nullptr, false, [&] { *out_json = inst->impl.health(); });
}

omnihost_status sa_generate(omnihost_instance *inst, const char *request_json, const omnihost_job *job,
                            omnihost_result **out) {
    if (!inst) return OMNIHOST_INVALID_ARGUMENT;
    if (out) *out = nullptr;
    return guarded(inst, false, [&] {
        if (!out) throw plugin_error(OMNIHOST_INVALID_ARGUMENT, "out: must not be NULL");
        *out = inst->impl.generate(request_json ? request_json : "{}", job);
    });
}

void sa_release_result(omnihost_instance *inst, omnihost_result *result) {
    if (!inst || !result) return;
    try {
        inst->impl.release(result);
    } catch (...) {
    }
}

omnihost_status sa_stop(omnihost_instance *inst) {
    if (!inst) return OMNIHOST_INVALID_ARGUMENT;
    return guarded(inst, false, [&] { inst->impl.stop(); });
}

const char *sa_last_error(omnihost_instance *inst) {
    if (!inst) return "";
    try {
        return inst->impl.last_error();
    } catch (...) {
        return "";
    }
}

omnihost_status sa_command_preview(omnihost_instance *inst, const char *start_json, const char **out_json) {
    if (!inst || !out_json) return OMNIHOST_INVALID_ARGUMENT;
    return guarded(inst, true, [&] { *out_json = inst->impl.command_preview(start_json ? start_json : "{}"); });
}

const omnihost_plugin_entry kEntry = {
    OMNIHOST_ABI_MAJOR,
    OMNIHOST_ABI_MINOR,
    sizeof(omnihost_plugin_entry),
    "stable_audio",
    "0.1.0",
    sa_create,
    sa_destroy,
    sa_start,
    sa_health,
    sa_generate,
    sa_release_result,
    sa_stop,
    sa_last_error,
    sa_command_preview,
};

}  // namespace

extern "C" OMNIHOST_EXPORT const omnihost_plugin_entry *omnihost_plugin_get_entry(void) { return &kEntry; }
