// The fused CPU paths of models/core/fused_ops against their composite ATen versions, one
// Wan2.1-1.3B-shaped activation (1,280 tokens x 1,536, 12 heads) in fp32 and bf16: time per call
// (median of --repeats) and the largest difference between the two results. Prints, never asserts.
//   bench_fused_ops [--threads N] [--repeats N] [--tokens N]
// The composite numbers come from the same binary with OMNIHOST_FUSED=0 semantics forced per call
// (fused::set_enabled_for_bench), so both sides run in one process on the same inputs.
#include "core/fused_ops.h"
#include "core/runtime.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

using namespace omnihost::models;
namespace {

double median_ms(int repeats, const std::function<at::Tensor()> &f, at::Tensor &out) {
    out = f();  // warm-up
    std::vector<double> ms;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        out = f();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

bool printing = false;  // the first round only warms up (threads, allocator, caches)

void row(const char *name, int repeats, const std::function<at::Tensor()> &f) {
    at::Tensor fused_out, composite_out;
    fused::set_enabled_for_bench(true);
    const double fused_ms = median_ms(repeats, f, fused_out);
    fused::set_enabled_for_bench(false);
    const double composite_ms = median_ms(repeats, f, composite_out);
    fused::set_enabled_for_bench(true);
    const double diff = (fused_out.to(at::kFloat) - composite_out.to(at::kFloat)).abs().max().item<double>();
    const double mag = composite_out.to(at::kFloat).abs().max().item<double>();
    if (!printing) return;
    std::printf("%-44s %9.3f %11.3f %7.2f   %.3g (of max %.3g)\n", name, fused_ms, composite_ms, fused_ms / composite_ms,
                diff, mag);
}

}  // namespace

int main(int argc, char **argv) {
    int threads = 0, repeats = 9;
    int64_t S = 1280;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 < argc && a == "--threads") threads = std::atoi(argv[++i]);
        else if (i + 1 < argc && a == "--repeats") repeats = std::max(1, std::atoi(argv[++i]));
        else if (i + 1 < argc && a == "--tokens") S = std::max(1, std::atoi(argv[++i]));
        else {
            std::printf("usage: %s [--threads N] [--repeats N] [--tokens N]\n", argv[0]);
            return a == "-h" || a == "--help" ? 0 : 2;
        }
    }
    configure_threads(threads);
    const int64_t d = 1536, heads = 12, ffn = 8960;
    std::printf("fused ops vs composite ATen, [1, %lld, %lld], %d threads, median of %d; oneDNN fused linear: %s\n",
                (long long)S, (long long)d, at::get_num_threads(), repeats,
                fused::onednn_linear_applies(at::empty({1, 1}), at::empty({1, 1})) ? "yes" : "no");
    std::printf("%-44s %9s %11s %7s   %s\n", "op", "fused_ms", "composite_ms", "ratio", "max |difference|");
    for (int round = 0; round < 2; ++round) {
        printing = round == 1;  // round 0 warms up
        auto gen = at::detail::createCPUGenerator(3);
        for (auto dt : {at::kFloat, at::kBFloat16}) {
            const std::string tag = dt == at::kFloat ? " fp32" : " bf16";
            at::Tensor x = at::randn({1, S, d}, gen).to(dt), a = at::randn({1, S, d}, gen).to(dt);
            at::Tensor mod = at::randn({1, 6, d}, gen) * 0.1;
            auto chunks = mod.chunk(6, 1);
            at::Tensor one_plus = 1 + chunks[1], shift = chunks[0], gate = chunks[2];
            at::Tensor norm_w = at::randn({d}, gen).to(dt);
            at::Tensor ang = at::rand({1, S, 1, d / heads / 2}, gen) * 6.28;
            at::Tensor c = ang.cos(), s = ang.sin();
            at::Tensor w1 = (at::randn({ffn, d}, gen) / 40).to(dt), b1 = at::randn({ffn}, gen).to(dt);
            at::Tensor w2 = (at::randn({d, d}, gen) / 40).to(dt), b2 = at::randn({d}, gen).to(dt);
            row(("layer_norm + modulate" + tag).c_str(), repeats,
                [&] { return fused::layer_norm_modulate(x, {}, {}, 1e-6, one_plus, shift, dt); });
            row(("gated residual" + tag).c_str(), repeats, [&] { return fused::gated_residual(x, a, gate, dt); });
            row(("rms_norm + rope" + tag).c_str(), repeats,
                [&] { return fused::rms_norm_rope(x, norm_w, 1e-6, heads, c, s); });
            row(("rms_norm" + tag).c_str(), repeats, [&] { return fused::rms_norm_rope(x, norm_w, 1e-6, heads); });
            row(("linear 1536->1536" + tag).c_str(), repeats, [&] { return fused::linear(x, w2, b2); });
            row(("linear 1536->8960 + gelu(tanh)" + tag).c_str(), repeats,
                [&] { return fused::linear(x, w1, b1, fused::activation::gelu_tanh); });
            row(("linear 1536->8960" + tag).c_str(), repeats, [&] { return fused::linear(x, w1, b1); });
        }
    }
    return 0;
}
