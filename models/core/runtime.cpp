#include "core/runtime.h"

#include "core/safetensors.h"  // model_error

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include <malloc.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

namespace omnihost::models {

int configure_threads(int threads) {
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(threads);
    return at::get_num_threads();
}

bool tune_allocator() {
    static std::once_flag once;
    static bool applied = false;
    std::call_once(once, [] {
        const char *tun = std::getenv("GLIBC_TUNABLES");
        if (tun && std::strstr(tun, "glibc.malloc.")) return;
        applied = mallopt(M_MMAP_THRESHOLD, 1 << 30) == 1;
        applied = (mallopt(M_TRIM_THRESHOLD, static_cast<int>(2147483647)) == 1) && applied;
    });
    return applied;
}

static std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

c10::Device parse_device(const std::string &text) {
    const std::string t = lower(text);
    if (t.empty() || t == "auto") return at::hasCUDA() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
    if (t == "cpu") return c10::Device(c10::kCPU);
    if (t == "cuda" || t.rfind("cuda:", 0) == 0) {
        if (!at::hasCUDA())
            throw model_error("device: '" + text + "' requested but CUDA is not available in this build/machine (use cpu)");
        if (t == "cuda") return c10::Device(c10::kCUDA, 0);
        c10::Device d(c10::kCPU);
        try {
            d = c10::Device(t);
        } catch (const std::exception &) {
            throw model_error("device: '" + text + "' is not a valid device (cpu, cuda, cuda:N, auto)");
        }
        const int count = at::detail::getCUDAHooks().getNumGPUs();
        if (d.index() >= count)
            throw model_error("device: '" + text + "' is not there: this machine has " + std::to_string(count) +
                              " CUDA device(s) (cuda:0" + (count > 1 ? " to cuda:" + std::to_string(count - 1) : std::string()) + ")");
        return d;
    }
    throw model_error("device: '" + text + "' is not a valid device (cpu, cuda, cuda:N, auto)");
}

c10::ScalarType parse_dtype(const std::string &text) {
    const std::string t = lower(text);
    if (t.empty() || t == "fp32" || t == "float32" || t == "float") return c10::kFloat;
    if (t == "bf16" || t == "bfloat16") return c10::kBFloat16;
    throw model_error("dtype: '" + text + "' is not supported (fp32, bf16)");
}

std::string dtype_name(c10::ScalarType t) {
    switch (t) {
    case c10::kFloat: return "fp32";
    case c10::kBFloat16: return "bf16";
    case c10::kHalf: return "fp16";
    case c10::kDouble: return "fp64";
    default: return c10::toString(t);
    }
}

}  // namespace omnihost::models
