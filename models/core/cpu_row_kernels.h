// Row kernels behind fused_ops (CPU, float32/bfloat16 storage, fp32 math). Plain pointers and no
// libtorch header: this file's .cpp is compiled with its own flags (auto-vectorised clones for
// AVX-512 / AVX2 / baseline picked at load time, and no contraction of a*b+c into one rounding, so
// every step rounds where the composite ATen ops round). Each call handles rows [r0, r1) of a
// row-major [rows, d] tensor; callers split rows across threads.
#pragma once

#include <cstdint>

namespace omnihost::models::fused::rows {

enum class elem : uint8_t { f32, bf16 };

// A modulation table of fp32 rows of d values for x's rows [B * S, d]: row r = b * S + s reads
// data + b * batch_stride + s * row_stride (row_stride 0: one row per batch, broadcast over S).
struct row_table {
    const float *data = nullptr;  // null: absent
    int64_t rows_per_batch = 1;   // S
    int64_t batch_stride = 0, row_stride = 0;
    const float *row(int64_t r) const {
        return data + (r / rows_per_batch) * batch_stride + (r % rows_per_batch) * row_stride;
    }
};

// y = layer_norm(x) [* weight + bias] [* one_plus_scale + shift], stored as `ot`.
void layer_norm_modulate(const void *x, elem xt, void *out, elem ot, int64_t r0, int64_t r1, int64_t d, float eps,
                         const float *weight, const float *bias, row_table one_plus_scale, row_table shift);

// out = x + a * gate (fp32), stored as `ot`.
void gated_residual(const void *x, elem xt, const void *a, elem at, row_table gate, void *out, elem ot, int64_t r0,
                    int64_t r1, int64_t d);

// out = rms_norm(x) * weight rounded to `t`; then, when cos is not null, RoPE on each head's
// interleaved pairs with the tables' row (r % rope_rows) of Dh/2 values, rounded to `t`.
void rms_norm_rope(const void *x, void *out, elem t, int64_t r0, int64_t r1, int64_t d, float eps, const void *weight,
                   elem wt, int64_t heads, const float *cos, const float *sin, int64_t rope_rows);

// out = softmax(x) over each row of d values, in fp32 (max, exp(x - max), sum, scale), stored as
// `ot`. exp is the same Cephes-style expf (about 1 ulp; results below e^-87.3 are kept at that value
// instead of going subnormal: after x - max that is far below what the row's sum can notice).
void softmax(const void *x, elem xt, void *out, elem ot, int64_t r0, int64_t r1, int64_t d);

// GELU with the tanh approximation, in place on n bfloat16 values [i0, i1): fp32 math, one rounding.
// 0.5 x (1 + tanh(u)) is computed as x / (1 + exp(-2u)) (the same function, no cancellation), with
// a vectorisable Cephes-style expf (about 1 ulp).
void gelu_tanh_bf16(uint16_t *x, int64_t i0, int64_t i1);

}  // namespace omnihost::models::fused::rows
