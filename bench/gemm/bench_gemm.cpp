// Linear-layer GEMM throughput on the CPU, per route, for the shapes the Wan transformer runs:
//   bench_gemm [--tokens N] [--in N] [--out N] [--reps N] [--threads N]
// Defaults: Wan2.1-1.3B's FFN up-projection at 1,280 tokens (1280x1536 @ 1536x8960, 35 GFLOP).
// Routes: at::linear in fp32 (BLAS: OpenBLAS on Debian's libtorch, MKL in the pip wheel),
// at::mkldnn_linear in fp32 (oneDNN; input converted to and from oneDNN's layout per call, the
// weight converted once as a model would at load), at::linear in bf16. The OpenBLAS kernel family
// follows OPENBLAS_CORETYPE, which is read when the library loads: compare by running this binary
// with different environments (the figures print the variable's value).
#include "core/runtime.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

namespace {

double time_best(int reps, const std::function<void()> &fn) {
    fn();  // warm-up (first call allocates and, for oneDNN, creates the primitive)
    double best = 1e30;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

}  // namespace

int main(int argc, char **argv) {
    int64_t m = 1280, k = 1536, n = 8960;
    int reps = 3, threads = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> long long {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return std::atoll(argv[++i]);
        };
        if (a == "--tokens") m = next();
        else if (a == "--in") k = next();
        else if (a == "--out") n = next();
        else if (a == "--reps") reps = static_cast<int>(next());
        else if (a == "--threads") threads = static_cast<int>(next());
        else {
            std::printf("usage: %s [--tokens N] [--in N] [--out N] [--reps N] [--threads N]\n", argv[0]);
            return a == "-h" || a == "--help" ? 0 : 2;
        }
    }
    if (m <= 0 || k <= 0 || n <= 0 || reps <= 0) {
        std::fprintf(stderr, "sizes and --reps must be positive\n");
        return 2;
    }
    omnihost::models::configure_threads(threads);
    const char *core = std::getenv("OPENBLAS_CORETYPE");
    const char *l2 = std::getenv("OPENBLAS_L2_SIZE");
    std::printf("libtorch %d.%d.%d, %d threads, OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s, oneDNN %s\n",
                TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH, at::get_num_threads(),
                core ? core : "(unset)", l2 ? l2 : "(unset)", at::hasMKLDNN() ? "yes" : "no");
    c10::InferenceMode guard;
    auto gen = at::detail::createCPUGenerator(1);
    at::Tensor x = at::randn({m, k}, gen), w = at::randn({n, k}, gen) * 0.02, b = at::randn({n}, gen);
    const double gflop = 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n) * 1e-9;
    auto report = [&](const char *route, double secs, const at::Tensor &y, const at::Tensor &ref) {
        const double diff = (y.to(at::kFloat) - ref).abs().max().item<double>();
        std::printf("  %-34s %8.3f s  %7.1f GFLOP/s  max|diff| vs fp32 BLAS %.2g\n", route, secs, gflop / secs, diff);
        std::fflush(stdout);
    };
    std::printf("linear [%lld x %lld] @ [%lld x %lld]^T: %.1f GFLOP, best of %d\n", (long long)m, (long long)k,
                (long long)n, (long long)k, gflop, reps);
    at::Tensor ref = at::linear(x, w, b);
    at::Tensor y;
    report("fp32 at::linear (BLAS)", time_best(reps, [&] { y = at::linear(x, w, b); }), y, ref);
    if (at::hasMKLDNN()) {
        at::Tensor wm = w.to_mkldnn();
        report("fp32 at::mkldnn_linear (oneDNN)",
               time_best(reps, [&] { y = at::mkldnn_linear(x.to_mkldnn(), wm, b).to_dense(); }), y, ref);
    }
    at::Tensor xb = x.to(at::kBFloat16), wb = w.to(at::kBFloat16), bb = b.to(at::kBFloat16);
    report("bf16 at::linear", time_best(reps, [&] { y = at::linear(xb, wb, bb); }), y, ref);
    return 0;
}
