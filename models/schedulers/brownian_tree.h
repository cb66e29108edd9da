// A seeded Brownian motion W on [t0, t1] (a Brownian tree), the noise source of the SDE solvers
// (CosineDPMSolverMultistepScheduler). W(t0) = 0, W(t1) = sqrt(t1 - t0) * N(0, 1), and W at the
// midpoint of every dyadic sub-interval [a, b] is the Brownian bridge sample
//   W(m) = (W(a) + W(b)) / 2 + sqrt((b - a) / 4) * N(0, 1)
// whose normal draw comes from a generator seeded by a hash of (seed, depth, node index). So W is
// one fixed function of t for a given seed, whatever the order or number of queries: increments
// are consistent ((a, c) = (a, b) + (b, c)), disjoint increments are independent and
// Var(W(t) - W(s)) = |t - s| down to the resolution `tol` (below it W is interpolated linearly).
//
// This is NOT bit-identical to torchsde's BrownianInterval/BrownianTree (see README.md in this
// folder): it is the same process, with omnihost's own deterministic draws.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace omnihost::models::schedulers {

class brownian_tree {
public:
    // `shape`: the shape of W (the latent batch). Draws are float64; values() come back in `dtype`.
    brownian_tree(double t0, double t1, std::vector<int64_t> shape, uint64_t seed, double tol = 1e-6,
                  c10::ScalarType dtype = c10::kFloat);

    // W(t), t clamped to [t0, t1].
    at::Tensor value(double t);
    // W(hi) - W(lo) for lo <= hi, both clamped (float64 internally, then `dtype`).
    at::Tensor increment(double lo, double hi);

    double t0() const { return t0_; }
    double t1() const { return t1_; }

private:
    double t0_, t1_, tol_;
    std::vector<int64_t> shape_;
    uint64_t seed_;
    c10::ScalarType dtype_;
    at::Tensor w_t1_;  // float64
    // The last few W(t) computed (float64): a node is always reproducible from its key, so this is
    // only a shortcut for the repeated query of each step boundary.
    std::vector<std::pair<double, at::Tensor>> recent_;

    at::Tensor value_f64(double t);
    at::Tensor normal(int depth, uint64_t index) const;
};

// diffusers' BrownianTreeNoiseSampler over a brownian_tree on [sigma_min, sigma_max]:
// noise(sigma, sigma_next) = (W(sigma_next) - W(sigma)) / sqrt(|sigma_next - sigma|), queries
// clamped to the tree's range (sigma_next = 0 at the last step reads W(sigma_min)), so every call
// returns a standard normal tensor for steps inside the range.
class brownian_noise_sampler {
public:
    brownian_noise_sampler(double sigma_min, double sigma_max, std::vector<int64_t> shape, uint64_t seed,
                           c10::ScalarType dtype = c10::kFloat);
    at::Tensor operator()(double sigma, double sigma_next);

private:
    brownian_tree tree_;
    c10::ScalarType dtype_;
};

}  // namespace omnihost::models::schedulers
