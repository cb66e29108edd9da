// Compiled with -ffp-contract=off (CMakeLists): a*b+c must round twice, as the separate ATen ops do,
// except where a kernel calls std::fma because ATen's vectorised kernel fuses that step.
// Each exported function is cloned for x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA) and the baseline
// ISA (GCC target_clones; the loader picks one: plain "avx512f"/"avx2" clones would lack FMA, and
// std::fma would become a libm call per element). The loops are written for the vectoriser:
// fixed-width lane accumulators for the sums (no reassociation is allowed otherwise) and
// branch-free conversions.
#include "core/cpu_row_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define OMNIHOST_ROW_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten))
#else
#define OMNIHOST_ROW_CLONES
#endif

namespace omnihost::models::fused::rows {
namespace {

inline float load(const float *p, int64_t i) { return p[i]; }
inline float load(const uint16_t *p, int64_t i) {
    const uint32_t u = static_cast<uint32_t>(p[i]) << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}
inline void store(float *p, int64_t i, float v) { p[i] = v; }
// Round to nearest even, NaN -> 0x7FC0: c10::BFloat16's conversion.
inline void store(uint16_t *p, int64_t i, float v) {
    uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    p[i] = static_cast<uint16_t>(v != v ? 0x7FC0u : rounded);
}
// v as it reads back after a store as T (the composite path's intermediate cast), in a register.
inline float rounded(const float *, float v) { return v; }
inline float rounded(const uint16_t *, float v) {
    uint16_t h;
    store(&h, 0, v);
    return load(&h, 0);
}

constexpr int lanes = 16;

// Sum of f(i) over [0, d) in fp32 with `lanes` independent accumulators (one AVX-512 register; ATen's
// row reductions also sum in fp32 in a cascade of vector lanes).
template <class F> inline float lane_sum(int64_t d, F f) {
    float acc[lanes] = {};
    int64_t i = 0;
    for (; i + lanes <= d; i += lanes)
        for (int l = 0; l < lanes; ++l) acc[l] += f(i + l);
    for (; i < d; ++i) acc[0] += f(i);
    float s = 0;
    for (float a : acc) s += a;
    return s;
}

template <class X, class O>
inline void ln_rows(const X *x, O *out, int64_t r0, int64_t r1, int64_t d, float eps, const float *__restrict w,
                    const float *__restrict b,
                    const row_table &s1, const row_table &sh) {
    for (int64_t r = r0; r < r1; ++r) {
        const X *__restrict xr = x + r * d;
        O *__restrict yr = out + r * d;
        const float inv_d = 1.0f / static_cast<float>(d);
        const float mean = lane_sum(d, [&](int64_t i) { return load(xr, i); }) * inv_d;
        const float var = lane_sum(d, [&](int64_t i) {
                              const float c = load(xr, i) - mean;
                              return c * c;
                          }) * inv_d;
        // As ATen's LayerNorm: rstd in fp32, y = fma(x, rstd, -mean * rstd) (its vectorised kernels fuse
        // this one multiply-add; with a single element the two forms differ by a whole rounding).
        const float rstd = 1.0f / std::sqrt(std::max(var, 0.0f) + eps);
        const float bias = -mean * rstd;
        // One branch-free loop per variant, so each vectorises.
        if (!w && s1.data) {
            const float *__restrict sr = s1.row(r);
            const float *__restrict hr = sh.row(r);
            for (int64_t i = 0; i < d; ++i) store(yr, i, std::fma(load(xr, i), rstd, bias) * sr[i] + hr[i]);
        } else if (!w) {
            for (int64_t i = 0; i < d; ++i) store(yr, i, std::fma(load(xr, i), rstd, bias));
        } else if (!s1.data) {
            for (int64_t i = 0; i < d; ++i) store(yr, i, std::fma(load(xr, i), rstd, bias) * w[i] + b[i]);
        } else {
            const float *__restrict sr = s1.row(r);
            const float *__restrict hr = sh.row(r);
            for (int64_t i = 0; i < d; ++i)
                store(yr, i, (std::fma(load(xr, i), rstd, bias) * w[i] + b[i]) * sr[i] + hr[i]);
        }
    }
}

template <class X, class A, class O>
inline void residual_rows(const X *x, const A *a, const row_table &g, O *out, int64_t r0, int64_t r1, int64_t d) {
    for (int64_t r = r0; r < r1; ++r) {
        const X *__restrict xr = x + r * d;
        const A *__restrict ar = a + r * d;
        const float *__restrict gr = g.row(r);
        O *__restrict yr = out + r * d;
        for (int64_t i = 0; i < d; ++i) store(yr, i, load(xr, i) + load(ar, i) * gr[i]);
    }
}

template <class T, class W>
inline void rms_rope_rows(const T *x, T *out, int64_t r0, int64_t r1, int64_t d, float eps, const W *w, int64_t heads,
                          const float *cos, const float *sin, int64_t rope_rows) {
    const int64_t dh = d / heads, half = dh / 2;
    for (int64_t r = r0; r < r1; ++r) {
        const T *__restrict xr = x + r * d;
        T *__restrict yr = out + r * d;
        const float ms = lane_sum(d, [&](int64_t i) {
                             const float v = load(xr, i);
                             return v * v;
                         }) / static_cast<float>(d);
        const float rs = 1.0f / std::sqrt(ms + eps);
        if (!cos) {
            for (int64_t i = 0; i < d; ++i) store(yr, i, (load(xr, i) * rs) * load(w, i));
            continue;
        }
        // RoPE straight from the normalised values (rounded to T first, as the composite path
        // stores them), pair by pair: one pass, no re-read.
        const float *__restrict c = cos + (r % rope_rows) * half;
        const float *__restrict s = sin + (r % rope_rows) * half;
        for (int64_t h = 0; h < heads; ++h) {
            const T *__restrict xp = xr + h * dh;
            const W *__restrict wp = w + h * dh;
            T *__restrict p = yr + h * dh;
            for (int64_t k = 0; k < half; ++k) {
                const float x1 = rounded(yr, (load(xp, 2 * k) * rs) * load(wp, 2 * k));
                const float x2 = rounded(yr, (load(xp, 2 * k + 1) * rs) * load(wp, 2 * k + 1));
                store(p, 2 * k, x1 * c[k] - x2 * s[k]);
                store(p, 2 * k + 1, x1 * s[k] + x2 * c[k]);
            }
        }
    }
}

// Cephes' expf: exp(x) = 2^n exp(r), n = round(x / ln 2), r = x - n ln 2 in two steps (Cody-Waite),
// exp(r) by a degree-7 polynomial. Branch-free, so the loops vectorise; x clamped to [-87.3, 88.3]
// (normal results only).
inline float exp_approx(float x) {
    x = std::min(std::max(x, -87.3f), 88.3f);
    const float magic = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to an integer
    const float n = (x * 1.44269504088896341f + magic) - magic;
    float r = std::fma(n, -0.693359375f, x);
    r = std::fma(n, 2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = std::fma(p, r, 1.3981999507e-3f);
    p = std::fma(p, r, 8.3334519073e-3f);
    p = std::fma(p, r, 4.1665795894e-2f);
    p = std::fma(p, r, 1.6666665459e-1f);
    p = std::fma(p, r, 5.0000001201e-1f);
    p = std::fma(p, r * r, r + 1.0f);
    const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

template <class X, class O>
inline void softmax_rows(const X *x, O *out, int64_t r0, int64_t r1, int64_t d, float *e) {
    for (int64_t r = r0; r < r1; ++r) {
        const X *__restrict xr = x + r * d;
        O *__restrict yr = out + r * d;
        float mx[lanes];
        for (float &m : mx) m = -std::numeric_limits<float>::infinity();
        int64_t i = 0;
        for (; i + lanes <= d; i += lanes)
            for (int l = 0; l < lanes; ++l) mx[l] = std::max(mx[l], load(xr, i + l));
        for (; i < d; ++i) mx[0] = std::max(mx[0], load(xr, i));
        float m = mx[0];
        for (float v : mx) m = std::max(m, v);
        float *__restrict er = e;
        for (int64_t j = 0; j < d; ++j) er[j] = exp_approx(load(xr, j) - m);
        const float inv = 1.0f / lane_sum(d, [&](int64_t j) { return er[j]; });
        for (int64_t j = 0; j < d; ++j) store(yr, j, er[j] * inv);
    }
}

template <class X> const X *as(const void *p) { return static_cast<const X *>(p); }
template <class X> X *as(void *p) { return static_cast<X *>(p); }

}  // namespace

OMNIHOST_ROW_CLONES
void layer_norm_modulate(const void *x, elem xt, void *out, elem ot, int64_t r0, int64_t r1, int64_t d, float eps,
                         const float *weight, const float *bias, row_table one_plus_scale, row_table shift) {
    using u16 = uint16_t;
    if (xt == elem::f32 && ot == elem::f32)
        ln_rows(as<float>(x), as<float>(out), r0, r1, d, eps, weight, bias, one_plus_scale, shift);
    else if (xt == elem::f32)
        ln_rows(as<float>(x), as<u16>(out), r0, r1, d, eps, weight, bias, one_plus_scale, shift);
    else if (ot == elem::f32)
        ln_rows(as<u16>(x), as<float>(out), r0, r1, d, eps, weight, bias, one_plus_scale, shift);
    else
        ln_rows(as<u16>(x), as<u16>(out), r0, r1, d, eps, weight, bias, one_plus_scale, shift);
}

OMNIHOST_ROW_CLONES
void gated_residual(const void *x, elem xt, const void *a, elem at, row_table gate, void *out, elem ot, int64_t r0,
                    int64_t r1, int64_t d) {
    using u16 = uint16_t;
    auto with_out = [&](auto *xp, auto *ap) {
        if (ot == elem::f32) residual_rows(xp, ap, gate, as<float>(out), r0, r1, d);
        else residual_rows(xp, ap, gate, as<u16>(out), r0, r1, d);
    };
    if (xt == elem::f32 && at == elem::f32) with_out(as<float>(x), as<float>(a));
    else if (xt == elem::f32) with_out(as<float>(x), as<u16>(a));
    else if (at == elem::f32) with_out(as<u16>(x), as<float>(a));
    else with_out(as<u16>(x), as<u16>(a));
}

OMNIHOST_ROW_CLONES
void rms_norm_rope(const void *x, void *out, elem t, int64_t r0, int64_t r1, int64_t d, float eps, const void *weight,
                   elem wt, int64_t heads, const float *cos, const float *sin, int64_t rope_rows) {
    using u16 = uint16_t;
    if (t == elem::f32 && wt == elem::f32)
        rms_rope_rows(as<float>(x), as<float>(out), r0, r1, d, eps, as<float>(weight), heads, cos, sin, rope_rows);
    else if (t == elem::f32)
        rms_rope_rows(as<float>(x), as<float>(out), r0, r1, d, eps, as<u16>(weight), heads, cos, sin, rope_rows);
    else if (wt == elem::f32)
        rms_rope_rows(as<u16>(x), as<u16>(out), r0, r1, d, eps, as<float>(weight), heads, cos, sin, rope_rows);
    else
        rms_rope_rows(as<u16>(x), as<u16>(out), r0, r1, d, eps, as<u16>(weight), heads, cos, sin, rope_rows);
}

OMNIHOST_ROW_CLONES
void softmax(const void *x, elem xt, void *out, elem ot, int64_t r0, int64_t r1, int64_t d) {
    using u16 = uint16_t;
    std::vector<float> e(static_cast<size_t>(d));  // the row's exponentials before scaling
    if (xt == elem::f32 && ot == elem::f32) softmax_rows(as<float>(x), as<float>(out), r0, r1, d, e.data());
    else if (xt == elem::f32) softmax_rows(as<float>(x), as<u16>(out), r0, r1, d, e.data());
    else if (ot == elem::f32) softmax_rows(as<u16>(x), as<float>(out), r0, r1, d, e.data());
    else softmax_rows(as<u16>(x), as<u16>(out), r0, r1, d, e.data());
}

OMNIHOST_ROW_CLONES
void gelu_tanh_bf16(uint16_t *x, int64_t i0, int64_t i1) {
    uint16_t *__restrict p = x;
    for (int64_t i = i0; i < i1; ++i) {
        const float v = load(p, i);
        const float u = 0.7978845608028654f * (v + 0.044715f * v * v * v);  // sqrt(2/pi) (x + 0.044715 x^3)
        store(p, i, v / (1.0f + exp_approx(-2.0f * u)));
    }
}

}  // namespace omnihost::models::fused::rows
