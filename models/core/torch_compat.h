// Feature checks over the two libtorch sources omnihost builds against: Debian's libtorch 1.13
// (the default) and the current 2.x pip wheel (OMNIHOST_TORCH=pip). Code asks for a feature, never
// for a version, so a third libtorch only needs this file changed. Include it only from .cpp files
// that already include ATen (it pulls in no libtorch header beyond the version macros).
#pragma once

#include <torch/version.h>

#include <cstdlib>
#include <cstring>

#define OMNIHOST_TORCH_AT_LEAST(major, minor) \
    (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// at::scaled_dot_product_attention with the `scale` argument (public since 2.1; 1.13 has only the
// private _scaled_dot_product_attention). On CPU it dispatches to the fused flash kernel for fp32,
// bf16 and fp16 (no score matrix in memory); on CUDA to flash / memory-efficient kernels.
#define OMNIHOST_HAS_SDPA OMNIHOST_TORCH_AT_LEAST(2, 1)

// Device-generic allocator stats and graph capture (at::accelerator::getDeviceStats /
// resetPeakStats, at::accelerator::Graph): present in the 2.x wheel, absent in 1.13. Neither needs
// the CUDA toolkit's headers; on a machine without a GPU they are simply never reached.
#if defined(__has_include)
#if __has_include(<ATen/DeviceAccelerator.h>) && __has_include(<c10/core/CachingDeviceAllocator.h>)
#define OMNIHOST_HAS_DEVICE_ALLOCATOR_STATS 1
#endif
#if __has_include(<ATen/accelerator/Graph.h>)
#define OMNIHOST_HAS_ACCELERATOR_GRAPH 1
#endif
#endif
#ifndef OMNIHOST_HAS_DEVICE_ALLOCATOR_STATS
#define OMNIHOST_HAS_DEVICE_ALLOCATOR_STATS 0
#endif
#ifndef OMNIHOST_HAS_ACCELERATOR_GRAPH
#define OMNIHOST_HAS_ACCELERATOR_GRAPH 0
#endif

// OMNIHOST_SDPA=0 in the environment forces the chunked path on a libtorch that has SDPA (for
// side-by-side measurements); read once per library.
namespace omnihost::models {
inline bool sdpa_enabled() {
    static const bool on = [] {
        const char *v = std::getenv("OMNIHOST_SDPA");
        return !(v && std::strcmp(v, "0") == 0);
    }();
    return OMNIHOST_HAS_SDPA && on;
}
}  // namespace omnihost::models
