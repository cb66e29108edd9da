#include "schedulers/brownian_tree.h"

#include "core/safetensors.h"  // model_error

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

namespace omnihost::models::schedulers {
namespace {

// splitmix64's finaliser: every input bit affects every output bit, so node keys that differ
// anywhere give unrelated generator seeds (libtorch's mt19937 keeps only the low 32 bits of a seed,
// which therefore must already carry the whole key).
uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace

brownian_tree::brownian_tree(double t0, double t1, std::vector<int64_t> shape, uint64_t seed, double tol,
                             c10::ScalarType dtype)
    : t0_(t0), t1_(t1), tol_(tol), shape_(std::move(shape)), seed_(seed), dtype_(dtype) {
    if (!(t1_ > t0_)) throw model_error("brownian_tree: needs t0 < t1");
    if (!(tol_ > 0)) throw model_error("brownian_tree: tol must be > 0");
    // The root's draw is node (depth -1, 0): W(t1) = sqrt(t1 - t0) * N(0, 1).
    w_t1_ = normal(-1, 0) * std::sqrt(t1_ - t0_);
}

at::Tensor brownian_tree::normal(int depth, uint64_t index) const {
    const uint64_t key = mix64(mix64(seed_) ^ mix64(static_cast<uint64_t>(depth + 1) << 40) ^ index);
    at::Generator gen = at::detail::createCPUGenerator(key);
    return at::randn(shape_, gen, at::TensorOptions().dtype(at::kDouble));
}

at::Tensor brownian_tree::value_f64(double t) {
    t = std::clamp(t, t0_, t1_);
    for (const auto &[key, v] : recent_)
        if (key == t) return v;
    at::Tensor out;
    if (t == t0_) {
        out = at::zeros(shape_, at::kDouble);
    } else if (t == t1_) {
        out = w_t1_;
    } else {
        double a = t0_, b = t1_;
        at::Tensor wa = at::zeros(shape_, at::kDouble), wb = w_t1_;
        uint64_t index = 0;
        for (int depth = 0;; ++depth) {
            if (t == a) { out = wa; break; }
            if (t == b) { out = wb; break; }
            if (b - a <= tol_ || depth >= 60) {
                // Below the resolution: linear interpolation (the bridge's mean).
                out = wa + (wb - wa) * ((t - a) / (b - a));
                break;
            }
            const double m = a + (b - a) / 2;
            at::Tensor wm = (wa + wb) * 0.5 + normal(depth, index) * std::sqrt((b - a) / 4);
            if (t < m) {
                b = m;
                wb = wm;
                index = 2 * index;
            } else {
                a = m;
                wa = wm;
                index = 2 * index + 1;
            }
        }
    }
    // A sampler asks for W(sigma_i) twice (as the end of step i-1 and the start of step i).
    recent_.emplace_back(t, out);
    if (recent_.size() > 4) recent_.erase(recent_.begin());
    return out;
}

at::Tensor brownian_tree::value(double t) { return value_f64(t).to(dtype_); }

at::Tensor brownian_tree::increment(double lo, double hi) { return (value_f64(hi) - value_f64(lo)).to(dtype_); }

brownian_noise_sampler::brownian_noise_sampler(double sigma_min, double sigma_max, std::vector<int64_t> shape,
                                               uint64_t seed, c10::ScalarType dtype)
    : tree_(sigma_min, sigma_max, std::move(shape), seed, 1e-6, at::kDouble), dtype_(dtype) {}

at::Tensor brownian_noise_sampler::operator()(double sigma, double sigma_next) {
    const double lo = std::min(sigma, sigma_next), hi = std::max(sigma, sigma_next);
    const double sign = sigma > sigma_next ? -1.0 : 1.0;  // W(sigma_next) - W(sigma)
    at::Tensor w = tree_.increment(lo, hi) * sign;
    return (w / std::sqrt(hi - lo)).to(dtype_);
}

}  // namespace omnihost::models::schedulers
