// The ABI edge: the exported entry table, built by the in-process plugins' shared glue
// (plugin_glue.h: every member catches every exception and turns it into a status code plus
// last_error(); nothing C++ crosses into the host). Here: this plugin's instance and the
// exceptions only it throws.
#include "omnihost_plugin.h"
#include "plugin_error.h"
#include "plugin_glue.h"
#include "video_instance.h"

#include "core/safetensors.h"
#include "media/media_error.h"
#include "spm_tokenizer.h"
#include "wan_pipeline/wan_pipeline.h"

#include <c10/util/Exception.h>

#include <string>

struct omnihost_instance {
    omnihost_instance(const omnihost_host *host, omnihost::video_diffusion::create_config config)
        : impl(host, std::move(config)) {}
    omnihost::video_diffusion::video_instance impl;
};

namespace {

using omnihost::inprocess::looks_like_oom;
using namespace omnihost::video_diffusion;
namespace wan = omnihost::models::wan;

// What plugin_glue.h needs of this plugin, and the exceptions only it throws.
struct vd_traits {
    static constexpr const char *id = "video_diffusion";
    static constexpr const char *version = "0.1.0";

    static omnihost_instance *create(const omnihost_host *host, const std::string &config_json) {
        return new omnihost_instance(host, parse_create_config(config_json));
    }
    static void destroy(omnihost_instance *inst) { delete inst; }
    static video_instance &impl(omnihost_instance *inst) { return inst->impl; }

    // `loading`: model errors during start are the user's model choice being wrong
    // (INVALID_ARGUMENT naming "model"); during generate they are INTERNAL.
    static omnihost_status translate(bool loading, std::string &message) {
        omnihost_status status = OMNIHOST_INTERNAL;
        try {
            throw;
        } catch (const wan::request_error &e) {
            status = OMNIHOST_INVALID_ARGUMENT;
            message = e.field + ": " + e.what();
        } catch (const wan::generation_cancelled &) {
            status = OMNIHOST_CANCELLED;
            message = "cancelled";
        } catch (const omnihost::models::model_error &e) {
            status = loading ? OMNIHOST_INVALID_ARGUMENT : OMNIHOST_INTERNAL;
            message = std::string(loading ? "model: " : "") + e.what();
        } catch (const omnihost::text::tokenizer_error &e) {
            status = loading ? OMNIHOST_INVALID_ARGUMENT : OMNIHOST_INTERNAL;
            message = std::string(loading ? "model: tokenizer: " : "tokenizer: ") + e.what();
        } catch (const c10::Error &e) {
            const std::string m = e.what_without_backtrace();
            status = looks_like_oom(m) ? OMNIHOST_OUT_OF_MEMORY : OMNIHOST_INTERNAL;
            message = (status == OMNIHOST_OUT_OF_MEMORY ? "out of memory: " : "libtorch: ") + m;
        } catch (const omnihost::media::media_error &e) {
            status = OMNIHOST_INTERNAL;
            message = e.what();
        }
        return status;
    }
};

}  // namespace

extern "C" OMNIHOST_EXPORT const omnihost_plugin_entry *omnihost_plugin_get_entry(void) {
    return &omnihost::inprocess::entry_glue<vd_traits>::table;
}
