// Fused CPU paths for the transformer blocks' memory-bound steps, each with the composite ATen
// version (diffusers' op order) as its fallback.
//
// Why: on the CPU a bf16 Wan block spends about as long in elementwise passes (dtype conversions,
// LayerNorm + modulation, gated residuals, RMSNorm, RoPE, GELU) as in its GEMMs, because each ATen
// op reads and writes the whole [tokens, dim] activation once more. Each function below does its
// step in one pass over the rows (fp32 math, the same roundings as the composite ops: no fused
// multiply-add, the same intermediate casts), and `linear` hands the bias and the GELU to oneDNN's
// fused linear where the libtorch has it (2.x), so they are applied to the fp32 accumulator
// instead of in extra passes over the output.
//
// When a fused path applies: CPU tensors in float32 or bfloat16, the fused ops enabled (see
// fused_enabled). Everything else (CUDA, fp16, 1.13 for `linear`) takes the composite path, which
// is the exact op sequence the model code had before (so CUDA and graphs are unchanged).
// Thread safety: all functions are reentrant; the kernels split rows over ATen's intra-op threads.
#pragma once

#include <ATen/core/Tensor.h>

namespace omnihost::models::fused {

// OMNIHOST_FUSED=0 in the environment switches every fused path off (side-by-side checks);
// read once per process.
bool fused_enabled();
// For benches and tests that compare both paths in one process (bench_fused_ops, models.core.unit):
// switch the fused paths on or off (not thread safe: call it between runs, never during one).
void set_enabled_for_bench(bool on);

// Whether `linear` reaches oneDNN's fused linear (mkldnn::_linear_pointwise) for this input.
bool onednn_linear_applies(const at::Tensor &x, const at::Tensor &weight);

enum class activation { none, gelu_tanh, gelu_erf };

// act(x @ weight^T + bias). bias may be undefined.
at::Tensor linear(const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias,
                  activation act = activation::none);

// (layer_norm(x.float(), weight, bias, eps) * one_plus_scale + shift).to(out_dtype) over the last
// dim. weight/bias: [d] or undefined (no affine). one_plus_scale/shift: fp32, broadcast over the
// rows as [B, 1, d] or per row as [B, S, d], or both undefined (no modulation). one_plus_scale is
// `1 + scale` already rounded to fp32, as diffusers computes it.
at::Tensor layer_norm_modulate(const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias, double eps,
                               const at::Tensor &one_plus_scale, const at::Tensor &shift, at::ScalarType out_dtype);

// (x.float() + a.float() * gate).to(out_dtype); gate fp32 [B, 1, d] or [B, S, d]; x, a [B, S, d].
at::Tensor gated_residual(const at::Tensor &x, const at::Tensor &a, const at::Tensor &gate, at::ScalarType out_dtype);

// RMSNorm over the last dim (x [B, S, heads * Dh]): (x.float() * rsqrt(mean(x^2) + eps) * weight)
// in x's dtype; then, when cos_even/sin_odd ([1, S, 1, Dh/2] fp32) are defined, RoPE on each head's
// interleaved pairs (out[2k] = x[2k] cos - x[2k+1] sin, out[2k+1] = x[2k] sin + x[2k+1] cos) in
// fp32, rounded to x's dtype. Returns [B, S, heads, Dh].
at::Tensor rms_norm_rope(const at::Tensor &x, const at::Tensor &weight, double eps, int64_t heads,
                         const at::Tensor &cos_even = {}, const at::Tensor &sin_odd = {});

// softmax over the last dim in fp32, stored as out_dtype: at::softmax(scores, -1, kFloat).to(out_dtype)
// (for fp32 scores and output: at::softmax(scores, -1), which the fp32 case also runs: it is the
// faster one there). The attention math path's softmax (libtorch 1.13 has no fused attention); for
// bf16 scores one pass per row instead of an fp32 softmax plus a cast.
at::Tensor softmax_lastdim(const at::Tensor &scores, at::ScalarType out_dtype);

}  // namespace omnihost::models::fused
