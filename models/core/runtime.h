// Process-level setup for running models on libtorch: intra-op threads, allocator tuning, and
// parsing of the `device` / `dtype` settings.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace omnihost::models {

// Sets libtorch's intra-op threads. `threads <= 0` means every core (hardware_concurrency);
// libtorch 1.13 itself defaults to half the cores. Returns the count in effect.
int configure_threads(int threads = 0);

// Keeps freed tensor memory in the heap instead of returning it to the kernel after each op
// (glibc mallopt M_MMAP_THRESHOLD 1 GiB, M_TRIM_THRESHOLD 2 GiB, the largest int mallopt takes):
// 2-4x faster CPU inference here (env-notes "Allocator").
// Call before the first big allocation; idempotent. Skipped when GLIBC_TUNABLES already sets malloc
// options (the user's choice wins). Returns true when the tuning was applied by this call or before.
bool tune_allocator();

// "cpu", "cuda", "cuda:N", or "auto"/"" (cuda when available, else cpu). "cuda" on a build or
// machine without CUDA is a model_error naming the `device` setting.
c10::Device parse_device(const std::string &text);
// "fp32"/"float32"/"float", "bf16"/"bfloat16". Anything else: model_error naming `dtype`.
c10::ScalarType parse_dtype(const std::string &text);
std::string dtype_name(c10::ScalarType t);  // "fp32", "bf16", ...

}  // namespace omnihost::models
