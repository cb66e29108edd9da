// torchsde's BrownianTree (BrownianInterval with halfway_tree=True, tol=1e-6, pool_size=24, no
// Levy area) re-implemented on libtorch, as diffusers' BrownianTreeNoiseSampler uses it for the
// SDE schedulers (CosineDPMSolverMultistepScheduler): the same dyadic interval tree with midpoints
// rounded to 6 decimals, the same per-node seeds (numpy's SeedSequence(entropy, spawn_key=(key,
// depth), pool_size=24).generate_state(4)), the same torch.randn draws from CPU generators seeded
// with them, the same Brownian-bridge arithmetic in the noise dtype, and the same decomposition of
// a query into the tree's existing intervals (so the float rounding of the sums agrees too).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace omnihost::models::schedulers {

// numpy.random.SeedSequence(entropy, spawn_key, pool_size).generate_state(n_words) (uint32 words).
// An integer is split into little-endian 32-bit words (0 -> one word 0); with a spawn key the
// entropy words are zero-padded to pool_size, as numpy >= 1.19 does.
std::vector<uint32_t> seed_sequence_state(uint64_t entropy, const std::vector<uint64_t> &spawn_key, size_t pool_size,
                                          size_t n_words);

class torchsde_brownian_tree {
public:
    torchsde_brownian_tree(double t0, double t1, std::vector<int64_t> size, c10::ScalarType dtype, uint64_t entropy,
                           double tol = 1e-6, size_t pool_size = 24);
    ~torchsde_brownian_tree();
    torchsde_brownian_tree(torchsde_brownian_tree &&) noexcept;

    // W(tb) - W(ta) for ta <= tb (both clamped to [t0, t1], as torchsde does with a warning).
    at::Tensor operator()(double ta, double tb);

private:
    struct node;
    double round(double x) const;
    void split(node *n, double at);
    void split_exact(node *n, double midway);
    void locate(node *n, double ta, double tb, std::vector<node *> &out);
    at::Tensor increment(node *n);
    at::Tensor randn(uint32_t seed) const;

    std::vector<int64_t> size_;
    c10::ScalarType dtype_;
    uint64_t entropy_;
    size_t pool_size_;
    int ndigits_;
    std::unique_ptr<node> root_;
    at::Tensor root_w_;
    std::map<node *, at::Tensor> cache_;  // bounded; values are recomputable from the parents
};

// diffusers' BrownianTreeNoiseSampler + BatchedBrownianTree (one tree, not batched seeds):
// noise(sigma, sigma_next) = W(sorted) * sign / sqrt(|sigma_next - sigma|) in float32 ops, the tree
// on [float32(sigma_min), float32(sigma_max)] seeded with `seed`.
class torchsde_noise_sampler {
public:
    torchsde_noise_sampler(double sigma_min, double sigma_max, std::vector<int64_t> size, c10::ScalarType dtype,
                           uint64_t seed);
    // sigma / sigma_next as the scheduler holds them (0-d float32 tensors).
    at::Tensor operator()(const at::Tensor &sigma, const at::Tensor &sigma_next);

private:
    torchsde_brownian_tree tree_;
};

}  // namespace omnihost::models::schedulers
