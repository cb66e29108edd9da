#include "core/fused_ops.h"

#include "core/cpu_row_kernels.h"
#include "core/torch_compat.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/record_function.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

namespace omnihost::models::fused {
namespace {

std::optional<rows::elem> elem_of(at::ScalarType t) {
    if (t == at::kFloat) return rows::elem::f32;
    if (t == at::kBFloat16) return rows::elem::bf16;
    return std::nullopt;
}

// Inputs a row kernel can read in place: CPU, fp32/bf16, row-major.
bool kernel_input(const at::Tensor &t) {
    return t.defined() && t.device().is_cpu() && elem_of(t.scalar_type()) && t.is_contiguous();
}

// A modulation/gate table for x [B, S, d]: fp32 [B, 1, d] (broadcast over S) or [B, S, d], any
// strides but a unit stride along d (diffusers' chunk() views of the modulation qualify).
std::optional<rows::row_table> table_for(const at::Tensor &m, const at::Tensor &x) {
    if (!m.defined()) return rows::row_table{};
    if (x.dim() != 3 || m.dim() != 3 || !m.device().is_cpu() || m.scalar_type() != at::kFloat) return std::nullopt;
    const int64_t d = x.size(2), s = x.size(1);
    if (m.size(0) != x.size(0) || m.size(2) != d || (d > 1 && m.stride(2) != 1)) return std::nullopt;
    if (m.size(1) != 1 && m.size(1) != s) return std::nullopt;
    rows::row_table t;
    t.data = m.data_ptr<float>();
    t.rows_per_batch = s;
    t.batch_stride = m.size(0) > 1 ? m.stride(0) : 0;
    t.row_stride = m.size(1) == 1 ? 0 : m.stride(1);
    return t;
}

// Rows per parallel task: about 32 K elements, so a [1280, 1536] activation makes ~60 tasks.
int64_t grain_rows(int64_t d) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, d)); }

// oneDNN's bf16 kernels need AVX-512 (BW, VL, DQ) on x86, as libtorch's own check for its bf16
// matmul path; without them oneDNN would fall back to reference code far slower than ATen's.
bool cpu_has_onednn_bf16() {
#if defined(__x86_64__) && defined(__GNUC__)
    static const bool ok = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                           __builtin_cpu_supports("avx512dq");
    return ok;
#else
    return false;
#endif
}

// mkldnn::_linear_pointwise(Tensor X, Tensor W, Tensor? B, str attr, Scalar?[] scalars, str? algorithm):
// registered by libtorch 2.x builds with oneDNN (what torch.compile's CPU backend emits); absent
// from 1.13. Looked up once; called boxed so the code compiles against either libtorch.
const c10::OperatorHandle *linear_pointwise_op() {
    // Kept for the process's life (the dispatcher's registrations are static too).
    static const c10::OperatorHandle *op = []() -> const c10::OperatorHandle * {
        if (!at::hasMKLDNN()) return nullptr;
        auto handle = c10::Dispatcher::singleton().findSchema({"mkldnn::_linear_pointwise", ""});
        return handle ? new c10::OperatorHandle(*handle) : nullptr;
    }();
    return op;
}

at::Tensor apply(at::Tensor y, activation act) {
    switch (act) {
    case activation::gelu_tanh:
        // bf16 on the CPU without oneDNN's fused linear (libtorch 1.13): ATen's bf16 GELU(tanh) is
        // not vectorised there (a third of a bf16 Wan forward's time); one pass in place instead.
        if (fused_enabled() && y.device().is_cpu() && y.scalar_type() == at::kBFloat16 && y.is_contiguous() &&
            y.numel() > 0) {
            RECORD_FUNCTION("omnihost::gelu_tanh", std::vector<c10::IValue>({y}));
            auto *p = static_cast<uint16_t *>(y.data_ptr());
            at::parallel_for(0, y.numel(), 32768, [p](int64_t i0, int64_t i1) { rows::gelu_tanh_bf16(p, i0, i1); });
            return y;
        }
        return at::gelu(y, "tanh");
    case activation::gelu_erf: return at::gelu(y);
    case activation::none: break;
    }
    return y;
}

}  // namespace

namespace {
bool &enabled_flag() {
    static bool on = [] {
        const char *v = std::getenv("OMNIHOST_FUSED");
        return !(v && std::strcmp(v, "0") == 0);
    }();
    return on;
}
}  // namespace

bool fused_enabled() { return enabled_flag(); }

void set_enabled_for_bench(bool on) { enabled_flag() = on; }

bool onednn_linear_applies(const at::Tensor &x, const at::Tensor &weight) {
    if (!fused_enabled() || !linear_pointwise_op() || !at::globalContext().userEnabledMkldnn()) return false;
    if (!x.device().is_cpu() || !weight.device().is_cpu() || x.scalar_type() != weight.scalar_type()) return false;
    if (weight.dim() != 2 || !weight.is_contiguous() || x.dim() < 2 || x.size(-1) != weight.size(1)) return false;
    if (x.scalar_type() == at::kBFloat16) return cpu_has_onednn_bf16();
    return x.scalar_type() == at::kFloat;
}

at::Tensor linear(const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias, activation act) {
    // Chosen by measurement (docs/performance.md): in bf16 oneDNN's linear beats the addmm path for
    // every layer; in fp32 MKL's GEMM (at::linear) is as fast or faster, so oneDNN is used only
    // where it also applies the activation.
    const bool want = x.scalar_type() == at::kBFloat16 || act != activation::none;
    if (want && onednn_linear_applies(x, weight) && (!bias.defined() || bias.scalar_type() == x.scalar_type())) {
        const char *attr = act == activation::none ? "none" : "gelu";
        c10::optional<std::string> algorithm;
        if (act == activation::gelu_tanh) algorithm = std::string("tanh");
        else if (act == activation::gelu_erf) algorithm = std::string("none");
        std::vector<c10::IValue> stack;
        stack.reserve(6);
        stack.emplace_back(x.is_contiguous() ? x : x.contiguous());
        stack.emplace_back(weight);
        stack.emplace_back(bias.defined() ? c10::IValue(bias) : c10::IValue());
        stack.emplace_back(std::string(attr));
        stack.emplace_back(c10::List<c10::optional<at::Scalar>>());
        stack.emplace_back(algorithm ? c10::IValue(*algorithm) : c10::IValue());
        linear_pointwise_op()->callBoxed(&stack);
        return stack.at(0).toTensor();
    }
    return apply(at::linear(x, weight, bias), act);
}

at::Tensor layer_norm_modulate(const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias, double eps,
                               const at::Tensor &one_plus_scale, const at::Tensor &shift, at::ScalarType out_dtype) {
    const int64_t d = x.size(-1);
    const bool affine = weight.defined();
    const bool modulated = one_plus_scale.defined();
    std::optional<rows::row_table> s1 = table_for(one_plus_scale, x), sh = table_for(shift, x);
    if (fused_enabled() && kernel_input(x) && elem_of(out_dtype) && s1 && sh && modulated == shift.defined() &&
        affine == bias.defined() && x.numel() > 0) {
        at::Tensor w, b;
        if (affine) {
            w = weight.to(at::kFloat).contiguous();
            b = bias.to(at::kFloat).contiguous();
        }
        RECORD_FUNCTION("omnihost::layer_norm_modulate", std::vector<c10::IValue>({x}));
        at::Tensor out = at::empty(x.sizes(), x.options().dtype(out_dtype));
        const void *xp = x.data_ptr();
        void *op = out.data_ptr();
        const auto xt = *elem_of(x.scalar_type()), ot = *elem_of(out_dtype);
        const float *wp = affine ? w.data_ptr<float>() : nullptr, *bp = affine ? b.data_ptr<float>() : nullptr;
        const float e = static_cast<float>(eps);
        at::parallel_for(0, x.numel() / d, grain_rows(d), [&](int64_t r0, int64_t r1) {
            rows::layer_norm_modulate(xp, xt, op, ot, r0, r1, d, e, wp, bp, *s1, *sh);
        });
        return out;
    }
    at::Tensor y = affine ? at::layer_norm(x.to(at::kFloat), {d}, weight.to(at::kFloat), bias.to(at::kFloat), eps)
                          : at::layer_norm(x.to(at::kFloat), {d}, {}, {}, eps);
    if (modulated) y = y * one_plus_scale + shift;
    return y.to(out_dtype);
}

at::Tensor gated_residual(const at::Tensor &x, const at::Tensor &a, const at::Tensor &gate, at::ScalarType out_dtype) {
    std::optional<rows::row_table> g = table_for(gate, x);
    if (fused_enabled() && kernel_input(x) && kernel_input(a) && elem_of(out_dtype) && gate.defined() && g &&
        a.sizes() == x.sizes() && x.numel() > 0) {
        RECORD_FUNCTION("omnihost::gated_residual", std::vector<c10::IValue>({x, a}));
        const int64_t d = x.size(-1);
        at::Tensor out = at::empty(x.sizes(), x.options().dtype(out_dtype));
        const void *xp = x.data_ptr(), *ap = a.data_ptr();
        void *op = out.data_ptr();
        const auto xt = *elem_of(x.scalar_type()), at_ = *elem_of(a.scalar_type()), ot = *elem_of(out_dtype);
        at::parallel_for(0, x.numel() / d, grain_rows(d), [&](int64_t r0, int64_t r1) {
            rows::gated_residual(xp, xt, ap, at_, *g, op, ot, r0, r1, d);
        });
        return out;
    }
    return (x.to(at::kFloat) + a.to(at::kFloat) * gate).to(out_dtype);
}

at::Tensor rms_norm_rope(const at::Tensor &x, const at::Tensor &weight, double eps, int64_t heads,
                         const at::Tensor &cos_even, const at::Tensor &sin_odd) {
    const int64_t d = x.size(-1), dh = d / heads, s = x.dim() >= 2 ? x.size(-2) : 1;
    const bool rope = cos_even.defined();
    const bool tables_ok = !rope || (kernel_input(cos_even) && kernel_input(sin_odd) &&
                                     cos_even.scalar_type() == at::kFloat && sin_odd.scalar_type() == at::kFloat &&
                                     cos_even.numel() == s * (dh / 2) && sin_odd.numel() == s * (dh / 2) &&
                                     dh % 2 == 0);
    if (fused_enabled() && kernel_input(x) && kernel_input(weight) && weight.numel() == d && tables_ok &&
        x.dim() == 3 && d % heads == 0 && x.numel() > 0) {
        RECORD_FUNCTION(rope ? "omnihost::rms_norm_rope" : "omnihost::rms_norm", std::vector<c10::IValue>({x}));
        at::Tensor out = at::empty(x.sizes(), x.options());
        const void *xp = x.data_ptr(), *wp = weight.data_ptr();
        void *op = out.data_ptr();
        const auto t = *elem_of(x.scalar_type()), wt = *elem_of(weight.scalar_type());
        const float *cp = rope ? cos_even.data_ptr<float>() : nullptr;
        const float *sp = rope ? sin_odd.data_ptr<float>() : nullptr;
        const float e = static_cast<float>(eps);
        at::parallel_for(0, x.numel() / d, grain_rows(d), [&](int64_t r0, int64_t r1) {
            rows::rms_norm_rope(xp, op, t, r0, r1, d, e, wp, wt, heads, cp, sp, s);
        });
        return out.unflatten(-1, {heads, dh});
    }
    // Composite: torch.nn.RMSNorm in fp32, cast back; RoPE in fp32 on the cast values.
    const bool reduced = x.scalar_type() != at::kFloat;
    at::Tensor xf = reduced ? x.to(at::kFloat) : x;
    at::Tensor y = (xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps) * weight).to(x.scalar_type());
    y = y.unflatten(-1, {heads, dh});
    if (!rope) return y;
    at::Tensor x1 = y.slice(-1, 0, c10::nullopt, 2), x2 = y.slice(-1, 1, c10::nullopt, 2);
    at::Tensor even = x1 * cos_even - x2 * sin_odd;
    at::Tensor odd = x1 * sin_odd + x2 * cos_even;
    return at::stack({even, odd}, -1).flatten(-2).to(x.scalar_type());
}

at::Tensor softmax_lastdim(const at::Tensor &scores, at::ScalarType out_dtype) {
    // fp32 in and out: ATen's vectorised softmax is the faster one (measured on 1.13: 92 vs 175 ms
    // per 4-layer Wan forward); the kernel pays off where ATen needs a second pass for the cast.
    const bool all_fp32 = scores.scalar_type() == at::kFloat && out_dtype == at::kFloat;
    if (!all_fp32 && fused_enabled() && kernel_input(scores) && elem_of(out_dtype) && scores.numel() > 0 &&
        scores.dim() >= 1 && scores.size(-1) > 0) {
        RECORD_FUNCTION("omnihost::softmax", std::vector<c10::IValue>({scores}));
        const int64_t d = scores.size(-1);
        at::Tensor out = at::empty(scores.sizes(), scores.options().dtype(out_dtype));
        const void *xp = scores.data_ptr();
        void *op = out.data_ptr();
        const auto xt = *elem_of(scores.scalar_type()), ot = *elem_of(out_dtype);
        at::parallel_for(0, scores.numel() / d, std::max<int64_t>(1, 4096 / d),
                         [&](int64_t r0, int64_t r1) { rows::softmax(xp, xt, op, ot, r0, r1, d); });
        return out;
    }
    if (all_fp32) return at::softmax(scores, -1);
    return at::softmax(scores, -1, at::kFloat).to(out_dtype);
}

}  // namespace omnihost::models::fused
