#include "error_translation.h"

#include "omnihost_plugin.hpp"

#include "core/cancelled.h"
#include "core/model_error.h"
#include "media/media_error.h"
#include "tokenizer_error.h"

#include <c10/util/Exception.h>

#include <new>

namespace omnihost::inprocess {
namespace {

// libtorch's messages carry a source location and a hint block after the first line; the first
// line is what the user needs.
std::string first_line(const std::string &m) {
    const auto nl = m.find('\n');
    return nl == std::string::npos ? m : m.substr(0, nl);
}

}  // namespace

std::string out_of_memory_message(const error_context &ctx, const std::string &what_failed) {
    const std::string on = ctx.device.empty() ? std::string() : " on " + ctx.device;
    std::string m = ctx.loading ? "out of memory" + on + " while loading the model"
                                : "out of memory" + on + " during this generation";
    if (!what_failed.empty()) m += " (" + what_failed + ")";
    if (!ctx.loading) m += "; the job's memory was released and the model stays loaded";
    if (!ctx.oom_advice.empty()) m += ". What would help: " + ctx.oom_advice;
    return m;
}

omnihost_status translate_model_exception(const error_context &ctx, std::string &message) {
    try {
        throw;
    } catch (const models::operation_cancelled &) {
        message = "cancelled";
        return OMNIHOST_CANCELLED;
    } catch (const models::model_error &e) {
        message = std::string(ctx.loading ? "model: " : "") + e.what();
        return ctx.loading ? OMNIHOST_INVALID_ARGUMENT : OMNIHOST_INTERNAL;
    } catch (const text::tokenizer_error &e) {
        message = std::string(ctx.loading ? "model: tokenizer: " : "tokenizer: ") + e.what();
        return ctx.loading ? OMNIHOST_INVALID_ARGUMENT : OMNIHOST_INTERNAL;
    } catch (const c10::OutOfMemoryError &e) {
        message = out_of_memory_message(ctx, first_line(e.what_without_backtrace()));
        return OMNIHOST_OUT_OF_MEMORY;
    } catch (const c10::Error &e) {
        const std::string m = first_line(e.what_without_backtrace());
        if (sdk::looks_like_oom(m)) {
            message = out_of_memory_message(ctx, m);
            return OMNIHOST_OUT_OF_MEMORY;
        }
        message = "libtorch: " + m;
        return OMNIHOST_INTERNAL;
    } catch (const std::bad_alloc &e) {
        message = out_of_memory_message(ctx, e.what());
        return OMNIHOST_OUT_OF_MEMORY;
    } catch (const media::media_error &e) {
        message = ctx.media_prefix + e.what();
        return OMNIHOST_INTERNAL;
    }
}

}  // namespace omnihost::inprocess
