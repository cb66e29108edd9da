// The exception -> status mapping both in-process plugins share, for the exception types of the
// model libraries, the tokenizer, libtorch and media export. A plugin's translator catches only its
// own types (its request_error, its cancel) and hands everything else here. No libtorch in this
// header (the .cpp is in omnihost_inprocess_torch).
#pragma once

#include "omnihost_plugin.h"

#include <string>

namespace omnihost::inprocess {

struct error_context {
    bool loading = false;       // a start-time call: model errors are the user's model choice
    std::string device;         // where the model computes ("cpu", "cuda:0"); "" = not known yet
    std::string oom_advice;     // the settings that would help after an out-of-memory, as a sentence part
    std::string media_prefix;   // put before media_error messages, e.g. "audio export: "
};

// Called inside a catch handler: rethrows the current exception (`throw;`) and maps
//   models::model_error        start: INVALID_ARGUMENT "model: ..."; later: INTERNAL
//   text::tokenizer_error      likewise, "tokenizer: ..."
//   models::operation_cancelled CANCELLED "cancelled"
//   c10::OutOfMemoryError, c10::Error that reads as an allocation failure, std::bad_alloc
//                              OUT_OF_MEMORY, the message naming the device, what failed and
//                              ctx.oom_advice (during a job: that the job's memory was released and
//                              the model stays loaded)
//   other c10::Error           INTERNAL "libtorch: ..."
//   media::media_error         INTERNAL, ctx.media_prefix + message
// Anything else propagates (sdk::guard's standard handlers).
omnihost_status translate_model_exception(const error_context &ctx, std::string &message);

// The out-of-memory message itself (for tests and for callers that detect it another way).
std::string out_of_memory_message(const error_context &ctx, const std::string &what_failed);

}  // namespace omnihost::inprocess
