// The exception -> status mapping both in-process plugins share (plugins/inprocess_common/
// error_translation.h): each model-library type, and out-of-memory in its three forms (CUDA's
// c10::OutOfMemoryError, the CPU allocator's c10::Error, std::bad_alloc) at start and in a job.
#include "error_translation.h"

#include "core/cancelled.h"
#include "core/model_error.h"
#include "media/media_error.h"
#include "tokenizer_error.h"

#include <c10/util/Exception.h>
#undef CHECK  // c10 defines a glog-style CHECK; doctest's must win
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <new>
#include <stdexcept>
#include <string>

using namespace omnihost;
using inprocess::error_context;

namespace {

struct outcome {
    omnihost_status status;
    std::string message;
};

template <typename E>
outcome translate(const E &e, const error_context &ctx) {
    outcome o{OMNIHOST_OK, ""};
    try {
        throw e;
    } catch (...) {
        o.status = inprocess::translate_model_exception(ctx, o.message);
    }
    return o;
}

const c10::SourceLocation here{"test", __FILE__, 1};

error_context job_on(const std::string &device) {
    error_context c;
    c.device = device;
    c.oom_advice = "dtype=bf16, vae_use_tiling=true";
    return c;
}

}  // namespace

TEST_CASE("out of memory in a job: the device, what failed, that the model stays loaded, and what would help") {
    const outcome cpu = translate(c10::Error(here, "DefaultCPUAllocator: can't allocate memory: you tried to allocate "
                                                   "2654208000 bytes. Error code 12 (Cannot allocate memory)"),
                                  job_on("cpu"));
    CHECK(cpu.status == OMNIHOST_OUT_OF_MEMORY);
    CHECK(cpu.message.rfind("out of memory on cpu during this generation (DefaultCPUAllocator", 0) == 0);
    CHECK(cpu.message.find("the model stays loaded") != std::string::npos);
    CHECK(cpu.message.find("What would help: dtype=bf16, vae_use_tiling=true") != std::string::npos);

    const outcome cuda = translate(c10::OutOfMemoryError(here, "CUDA out of memory. Tried to allocate 2.00 GiB"), job_on("cuda:0"));
    CHECK(cuda.status == OMNIHOST_OUT_OF_MEMORY);
    CHECK(cuda.message.rfind("out of memory on cuda:0 during this generation (CUDA out of memory", 0) == 0);

    const outcome heap = translate(std::bad_alloc(), job_on("cpu"));
    CHECK(heap.status == OMNIHOST_OUT_OF_MEMORY);
    CHECK(heap.message.find("What would help") != std::string::npos);
}

TEST_CASE("out of memory at start fails the start and names the settings") {
    error_context c = job_on("cuda:0");
    c.loading = true;
    c.oom_advice = "enable_cpu_offload=true (only the component in use on cuda:0), dtype=bf16";
    const outcome o = translate(c10::OutOfMemoryError(here, "CUDA out of memory. Tried to allocate 5.00 GiB"), c);
    CHECK(o.status == OMNIHOST_OUT_OF_MEMORY);
    CHECK(o.message.rfind("out of memory on cuda:0 while loading the model", 0) == 0);
    CHECK(o.message.find("enable_cpu_offload=true") != std::string::npos);
    CHECK(o.message.find("stays loaded") == std::string::npos);
}

TEST_CASE("the other shared types keep their statuses") {
    error_context start;
    start.loading = true;
    const outcome model = translate(models::model_error("config.json: num_layers missing"), start);
    CHECK(model.status == OMNIHOST_INVALID_ARGUMENT);
    CHECK(model.message == "model: config.json: num_layers missing");
    CHECK(translate(models::model_error("x"), error_context{}).status == OMNIHOST_INTERNAL);
    const outcome tok = translate(text::tokenizer_error("spiece.model unreadable"), start);
    CHECK(tok.status == OMNIHOST_INVALID_ARGUMENT);
    CHECK(tok.message == "model: tokenizer: spiece.model unreadable");
    CHECK(translate(models::operation_cancelled(), error_context{}).status == OMNIHOST_CANCELLED);
    const outcome other = translate(c10::Error(here, "shape mismatch\nsome backtrace"), error_context{});
    CHECK(other.status == OMNIHOST_INTERNAL);
    CHECK(other.message == "libtorch: shape mismatch");
    error_context audio;
    audio.media_prefix = "audio export: ";
    CHECK(translate(media::media_error("no encoder"), audio).message == "audio export: no encoder");
    // Anything else is not this function's: it propagates.
    std::string m;
    bool propagated = false;
    try {
        try {
            throw std::runtime_error("other");
        } catch (...) {
            inprocess::translate_model_exception(error_context{}, m);
        }
    } catch (const std::runtime_error &) {
        propagated = true;
    }
    CHECK(propagated);
}
