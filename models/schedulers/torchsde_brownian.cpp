// Follows torchsde/_brownian/brownian_interval.py (BrownianInterval, halfway_tree=True,
// levy_area_approximation "none") and numpy's SeedSequence (bit_generator.pyx) step by step.
#include "schedulers/torchsde_brownian.h"

#include "core/safetensors.h"  // model_error

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace omnihost::models::schedulers {
namespace {

constexpr uint32_t init_a = 0x43b0d7e5, mult_a = 0x931e8875, init_b = 0x8b51f9dd, mult_b = 0x58f38ded;
constexpr uint32_t mix_mult_l = 0xca01f9dd, mix_mult_r = 0x4973f715;
constexpr int xshift = 16;

uint32_t hashmix(uint32_t value, uint32_t &hash_const) {
    value ^= hash_const;
    hash_const *= mult_a;
    value *= hash_const;
    value ^= value >> xshift;
    return value;
}

uint32_t mix(uint32_t x, uint32_t y) {
    uint32_t result = mix_mult_l * x - mix_mult_r * y;
    result ^= result >> xshift;
    return result;
}

void append_words(std::vector<uint32_t> &out, uint64_t n) {
    if (n == 0) out.push_back(0);
    while (n > 0) {
        out.push_back(static_cast<uint32_t>(n & 0xffffffffu));
        n >>= 32;
    }
}

}  // namespace

std::vector<uint32_t> seed_sequence_state(uint64_t entropy, const std::vector<uint64_t> &spawn_key, size_t pool_size,
                                          size_t n_words) {
    std::vector<uint32_t> assembled;
    append_words(assembled, entropy);
    if (!spawn_key.empty() && assembled.size() < pool_size) assembled.resize(pool_size, 0);
    for (uint64_t k : spawn_key) append_words(assembled, k);

    std::vector<uint32_t> pool(pool_size, 0);
    uint32_t hash_const = init_a;
    for (size_t i = 0; i < pool_size; ++i) pool[i] = hashmix(i < assembled.size() ? assembled[i] : 0, hash_const);
    for (size_t src = 0; src < pool_size; ++src)
        for (size_t dst = 0; dst < pool_size; ++dst)
            if (src != dst) pool[dst] = mix(pool[dst], hashmix(pool[src], hash_const));
    for (size_t src = pool_size; src < assembled.size(); ++src)
        for (size_t dst = 0; dst < pool_size; ++dst) pool[dst] = mix(pool[dst], hashmix(assembled[src], hash_const));

    std::vector<uint32_t> state(n_words);
    uint32_t hc = init_b;
    for (size_t i = 0; i < n_words; ++i) {
        uint32_t v = pool[i % pool_size];
        v ^= hc;
        hc *= mult_b;
        v *= hc;
        v ^= v >> xshift;
        state[i] = v;
    }
    return state;
}

struct torchsde_brownian_tree::node {
    double start, end;
    node *parent;
    bool is_left;
    bool has_midway = false;
    double midway = 0;
    uint64_t spawn_key = 0, depth = 0;
    uint32_t w_seed = 0;
    std::unique_ptr<node> left, right;
};

torchsde_brownian_tree::torchsde_brownian_tree(double t0, double t1, std::vector<int64_t> size, c10::ScalarType dtype,
                                               uint64_t entropy, double tol, size_t pool_size)
    : size_(std::move(size)), dtype_(dtype), entropy_(entropy), pool_size_(pool_size) {
    if (!(t0 <= t1)) throw model_error("torchsde_brownian_tree: needs t0 <= t1");
    if (!(tol > 0)) throw model_error("torchsde_brownian_tree: tol must be > 0");
    ndigits_ = -static_cast<int>(std::log10(tol));  // Python: -int(math.log10(tol))
    root_ = std::make_unique<node>();
    root_->start = round(t0);
    root_->end = round(t1);
    root_->parent = nullptr;
    root_->is_left = false;
    const auto seeds = seed_sequence_state(entropy_, {}, pool_size_, 3);
    root_w_ = randn(seeds[0]) * std::sqrt(t1 - t0);
}

torchsde_brownian_tree::~torchsde_brownian_tree() = default;
torchsde_brownian_tree::torchsde_brownian_tree(torchsde_brownian_tree &&) noexcept = default;

double torchsde_brownian_tree::round(double x) const {
    // Python's round(x, ndigits): the correctly rounded decimal, read back as a double.
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", ndigits_, x);
    return std::strtod(buf, nullptr);
}

at::Tensor torchsde_brownian_tree::randn(uint32_t seed) const {
    at::Generator gen = at::detail::createCPUGenerator(seed);
    return at::randn(size_, gen, at::TensorOptions().dtype(dtype_));
}

void torchsde_brownian_tree::split_exact(node *n, double midway) {
    n->midway = round(midway);
    n->has_midway = true;
    if (n->parent) {
        n->spawn_key = 2 * n->parent->spawn_key + (n->is_left ? 0 : 1);
        n->depth = n->parent->depth + 1;
    }
    n->w_seed = seed_sequence_state(entropy_, {n->spawn_key, n->depth}, pool_size_, 4)[0];
    n->left = std::make_unique<node>();
    n->left->start = round(n->start);
    n->left->end = round(midway);
    n->left->parent = n;
    n->left->is_left = true;
    n->right = std::make_unique<node>();
    n->right->start = round(midway);
    n->right->end = round(n->end);
    n->right->parent = n;
    n->right->is_left = false;
}

void torchsde_brownian_tree::split(node *n, double at) {
    for (int guard = 0;; ++guard) {
        if (guard > 200) throw model_error("torchsde_brownian_tree: query point does not resolve to the tree's grid");
        split_exact(n, 0.5 * (n->end + n->start));
        if (at > n->midway) n = n->right.get();
        else if (at < n->midway) n = n->left.get();
        else return;
    }
}

void torchsde_brownian_tree::locate(node *n, double ta, double tb, std::vector<node *> &out) {
    for (;;) {
        if (ta == n->start && tb == n->end) {
            out.push_back(n);
            return;
        }
        if (!n->has_midway) {
            // torchsde splits towards tb (when ta is our start) or ta, then asks the child, which hands
            // the query back to us when it does not cover it: routing from here again is the same.
            split(n, ta == n->start ? tb : ta);
            continue;
        }
        if (tb <= n->midway) {
            n = n->left.get();
        } else if (ta >= n->midway) {
            n = n->right.get();
        } else {
            locate(n->left.get(), ta, n->midway, out);
            ta = n->midway;
            n = n->right.get();
        }
    }
}

at::Tensor torchsde_brownian_tree::increment(node *n) {
    if (n == root_.get()) return root_w_;
    if (auto it = cache_.find(n); it != cache_.end()) return it->second;
    const node *p = n->parent;
    const at::Tensor w = increment(n->parent);
    const double h_reciprocal = 1 / (p->end - p->start);
    const double left_diff = p->midway - p->start;
    const double right_diff = p->end - p->midway;
    const at::Tensor mean = w * left_diff * h_reciprocal;
    const double var = left_diff * right_diff * h_reciprocal;
    const at::Tensor left_w = mean + std::sqrt(var) * randn(p->w_seed);
    at::Tensor out = n->is_left ? left_w : w - left_w;
    // Bounded like torchsde's LRU (values are recomputed from the parents when dropped): at most 256
    // nodes and about 256 MB, whatever the latent size.
    if (cache_.size() >= 256 || static_cast<int64_t>(cache_.size() + 1) * out.numel() * out.element_size() > (int64_t{256} << 20))
        cache_.clear();
    cache_.emplace(n, out);
    return out;
}

at::Tensor torchsde_brownian_tree::operator()(double ta, double tb) {
    ta = std::min(std::max(ta, root_->start), root_->end);
    tb = std::min(std::max(tb, root_->start), root_->end);
    if (ta > tb) throw model_error("torchsde_brownian_tree: query needs ta <= tb");
    // torchsde compares before rounding; two times that round to the same grid point make it recurse
    // without end (RecursionError). That interval has length 0 on the grid: its increment is 0.
    if (ta == tb || round(ta) == round(tb)) return at::zeros(size_, at::TensorOptions().dtype(dtype_));
    std::vector<node *> parts;
    locate(root_.get(), round(ta), round(tb), parts);
    at::Tensor w = increment(parts[0]);
    for (size_t i = 1; i < parts.size(); ++i) w = w + increment(parts[i]);
    return w;
}

torchsde_noise_sampler::torchsde_noise_sampler(double sigma_min, double sigma_max, std::vector<int64_t> size,
                                               c10::ScalarType dtype, uint64_t seed)
    // torch.as_tensor(sigma) is float32: the tree's ends are float(float32(sigma)).
    : tree_(static_cast<double>(static_cast<float>(sigma_min)), static_cast<double>(static_cast<float>(sigma_max)),
            std::move(size), dtype, seed) {}

at::Tensor torchsde_noise_sampler::operator()(const at::Tensor &sigma, const at::Tensor &sigma_next) {
    const double a = sigma.item<double>(), b = sigma_next.item<double>();
    const bool swapped = !(a < b);  // BatchedBrownianTree.sort: (a, b, 1) if a < b else (b, a, -1)
    const at::Tensor w = tree_(swapped ? b : a, swapped ? a : b) * (swapped ? -1 : 1);
    return w / (sigma_next - sigma).abs().sqrt();
}

}  // namespace omnihost::models::schedulers
