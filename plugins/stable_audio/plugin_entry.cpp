// The ABI edge: the exported entry table, built by the in-process plugins' shared glue
// (plugin_glue.h: every member catches every exception and turns it into a status code plus
// last_error(); nothing C++ crosses into the host). Here: this plugin's instance and the one
// exception only it throws; the model libraries' shared types map in error_translation.cpp.
#include "audio_instance.h"
#include "error_translation.h"
#include "omnihost_plugin.h"
#include "plugin_error.h"
#include "plugin_glue.h"

#include "stable_audio_pipeline/stable_audio_pipeline.h"

#include <string>

struct omnihost_instance {
    omnihost_instance(const omnihost_host *host, omnihost::stable_audio::create_config config)
        : impl(host, std::move(config)) {}
    omnihost::stable_audio::audio_instance impl;
};

namespace {

using namespace omnihost::stable_audio;
namespace sa = omnihost::models::stable_audio;

// What plugin_glue.h needs of this plugin.
struct sa_traits {
    static constexpr const char *id = "stable_audio";
    static constexpr const char *version = "0.1.0";

    static omnihost_instance *create(const omnihost_host *host, const std::string &config_json) {
        return new omnihost_instance(host, parse_create_config(config_json));
    }
    static void destroy(omnihost_instance *inst) { delete inst; }
    static audio_instance &impl(omnihost_instance *inst) { return inst->impl; }

    static omnihost_status translate(omnihost_instance *inst, bool loading, std::string &message) {
        try {
            throw;
        } catch (const sa::request_error &e) {
            message = e.field + ": " + e.what();
            return OMNIHOST_INVALID_ARGUMENT;
        } catch (...) {
            omnihost::inprocess::error_context ctx;
            ctx.loading = loading;
            ctx.media_prefix = "audio export: ";
            if (inst) ctx = inst->impl.error_context(loading);
            return omnihost::inprocess::translate_model_exception(ctx, message);
        }
    }
};

}  // namespace

extern "C" OMNIHOST_EXPORT const omnihost_plugin_entry *omnihost_plugin_get_entry(void) {
    return &omnihost::inprocess::entry_glue<sa_traits>::table;
}
