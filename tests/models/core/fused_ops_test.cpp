// core/fused_ops: every fused CPU path against its composite ATen version (the op sequence diffusers
// runs), on inputs shaped as the Wan blocks use them and on the layouts the kernels must either
// handle (per-batch and per-row modulation, strided chunk() views, batch > 1) or hand back to the
// composite path (non-contiguous input, fp16). With OMNIHOST_FUSED=0 semantics (set_enabled_for_bench)
// the same call gives the composite result, so each check runs both in one process.
#include "core/fused_ops.h"

#include <ATen/ATen.h>

// doctest last: c10 (glog) defines its own CHECK macro.
#include <doctest/doctest.h>

#include <functional>

using namespace omnihost::models;

namespace {

struct both {
    at::Tensor fused, composite;
};

both run_both(const std::function<at::Tensor()> &f) {
    fused::set_enabled_for_bench(true);
    at::Tensor a = f();
    fused::set_enabled_for_bench(false);
    at::Tensor b = f();
    fused::set_enabled_for_bench(true);
    return {a, b};
}

double max_diff(const both &r) {
    return (r.fused.to(at::kFloat) - r.composite.to(at::kFloat)).abs().max().item<double>();
}

double max_abs(const at::Tensor &t) { return t.to(at::kFloat).abs().max().item<double>(); }

// Allowed difference: fp32 a few ulp of the largest value (the kernels sum in another order);
// bf16 one unit in the last place at the largest value (2^-7 relative), since one fp32 ulp of
// difference before the final rounding can flip it.
double tolerance(at::ScalarType t, double magnitude) {
    return t == at::kFloat ? 4e-6 * std::max(1.0, magnitude) : magnitude / 128.0 + 1e-6;
}

}  // namespace

TEST_CASE("fused layer_norm_modulate matches the composite LayerNorm, modulation and cast") {
    auto gen = at::detail::createCPUGenerator(11);
    for (auto in : {at::kFloat, at::kBFloat16}) {
        for (auto out : {at::kFloat, at::kBFloat16}) {
            CAPTURE(static_cast<int>(in));
            CAPTURE(static_cast<int>(out));
            const int64_t B = 2, S = 37, d = 96;
            at::Tensor x = (at::randn({B, S, d}, gen) * 3 + 1).to(in);
            // Per batch, from a chunk() view with a batch stride of 6 * d, as the blocks slice them.
            at::Tensor mod = at::randn({B, 6, d}, gen) * 0.2;
            auto c = mod.chunk(6, 1);
            CHECK_FALSE(c[0].is_contiguous());
            at::Tensor one_plus = 1 + c[1];
            both r = run_both([&] { return fused::layer_norm_modulate(x, {}, {}, 1e-6, one_plus, c[0], out); });
            CHECK((r.fused.scalar_type() == out));
            CHECK(max_diff(r) <= tolerance(out, max_abs(r.composite)));

            // Per row ([B, S, 6, d] chunked on dim 2: Wan2.2's per-token timesteps).
            at::Tensor mod_rows = at::randn({B, S, 6, d}, gen) * 0.2;
            auto cr = mod_rows.chunk(6, 2);
            at::Tensor shift_rows = cr[0].squeeze(2), one_plus_rows = 1 + cr[1].squeeze(2);
            r = run_both([&] { return fused::layer_norm_modulate(x, {}, {}, 1e-6, one_plus_rows, shift_rows, out); });
            CHECK(max_diff(r) <= tolerance(out, max_abs(r.composite)));

            // Affine, no modulation (cross_attn_norm's FP32LayerNorm).
            at::Tensor w = at::randn({d}, gen), b = at::randn({d}, gen);
            r = run_both([&] { return fused::layer_norm_modulate(x, w, b, 1e-6, {}, {}, out); });
            CHECK(max_diff(r) <= tolerance(out, max_abs(r.composite)));
        }
    }
}

TEST_CASE("fused gated_residual is bit-identical to (x.float() + a * gate).to(dtype)") {
    auto gen = at::detail::createCPUGenerator(12);
    for (auto dt : {at::kFloat, at::kBFloat16}) {
        at::Tensor x = at::randn({2, 29, 64}, gen).to(dt), a = at::randn({2, 29, 64}, gen).to(dt);
        at::Tensor gate = at::randn({2, 6, 64}, gen).chunk(6, 1)[2];
        both r = run_both([&] { return fused::gated_residual(x, a, gate, dt); });
        CHECK(at::equal(r.fused, r.composite));
        at::Tensor gate_rows = at::randn({2, 29, 64}, gen);
        r = run_both([&] { return fused::gated_residual(x, a, gate_rows, dt); });
        CHECK(at::equal(r.fused, r.composite));
    }
}

TEST_CASE("fused rms_norm_rope matches RMSNorm then RoPE on the cast values") {
    auto gen = at::detail::createCPUGenerator(13);
    const int64_t B = 2, S = 23, heads = 4, dh = 16, d = heads * dh;
    at::Tensor ang = at::rand({1, S, 1, dh / 2}, gen) * 6.2831853;
    at::Tensor c = ang.cos(), s = ang.sin();
    for (auto dt : {at::kFloat, at::kBFloat16}) {
        at::Tensor x = (at::randn({B, S, d}, gen) * 2).to(dt);
        at::Tensor w = (at::rand({d}, gen) + 0.5).to(dt);
        both r = run_both([&] { return fused::rms_norm_rope(x, w, 1e-6, heads, c, s); });
        REQUIRE((r.fused.sizes() == at::IntArrayRef({B, S, heads, dh})));
        CHECK(max_diff(r) <= tolerance(dt, max_abs(r.composite)));
        r = run_both([&] { return fused::rms_norm_rope(x, w, 1e-6, heads); });
        CHECK(max_diff(r) <= tolerance(dt, max_abs(r.composite)));
    }
}

TEST_CASE("fused linear with GELU matches at::linear then at::gelu") {
    auto gen = at::detail::createCPUGenerator(14);
    for (auto dt : {at::kFloat, at::kBFloat16}) {
        at::Tensor x = at::randn({1, 40, 48}, gen).to(dt);
        at::Tensor w = (at::randn({72, 48}, gen) / 7).to(dt), b = at::randn({72}, gen).to(dt);
        for (auto act : {fused::activation::none, fused::activation::gelu_tanh, fused::activation::gelu_erf}) {
            both r = run_both([&] { return fused::linear(x, w, b, act); });
            CHECK((r.fused.sizes() == at::IntArrayRef({1, 40, 72})));
            CHECK(max_diff(r) <= tolerance(dt, max_abs(r.composite)));
        }
        both r = run_both([&] { return fused::linear(x, w, {}, fused::activation::gelu_tanh); });
        CHECK(max_diff(r) <= tolerance(dt, max_abs(r.composite)));
    }
}

TEST_CASE("row lengths that are not a multiple of the vector width (the kernels' tail loops)") {
    auto gen = at::detail::createCPUGenerator(16);
    for (auto dt : {at::kFloat, at::kBFloat16}) {
        for (int64_t d : {1, 2, 7, 37}) {
            CAPTURE(d);
            at::Tensor x = (at::randn({1, 5, d}, gen) * 2).to(dt), a = at::randn({1, 5, d}, gen).to(dt);
            at::Tensor gate = at::randn({1, 1, d}, gen), one_plus = 1 + at::randn({1, 1, d}, gen) * 0.1;
            at::Tensor shift = at::randn({1, 1, d}, gen);
            both r = run_both([&] { return fused::gated_residual(x, a, gate, dt); });
            CHECK(at::equal(r.fused, r.composite));
            // A LayerNorm over one element is x - x: whether the library fuses that multiply-add
            // (libtorch 1.13 and 2.x differ) decides a rounding residue there, so from 2 on.
            if (d == 1) continue;
            r = run_both([&] { return fused::layer_norm_modulate(x, {}, {}, 1e-5, one_plus, shift, dt); });
            CHECK(max_diff(r) <= tolerance(dt, max_abs(r.composite)));
        }
        // RMSNorm + RoPE with 3 heads of 6 (3 pairs each: shorter than any vector).
        at::Tensor q = at::randn({2, 4, 18}, gen).to(dt), w = (at::rand({18}, gen) + 0.5).to(dt);
        at::Tensor ang = at::rand({1, 4, 1, 3}, gen) * 6.2831853;
        at::Tensor c = ang.cos(), s = ang.sin();
        both r = run_both([&] { return fused::rms_norm_rope(q, w, 1e-6, 3, c, s); });
        CHECK(max_diff(r) <= tolerance(dt, max_abs(r.composite)));
    }
}

TEST_CASE("layouts the kernels do not take fall back to the composite path, same results") {
    auto gen = at::detail::createCPUGenerator(15);
    // A transposed (non-contiguous) activation and fp16: both must equal the composite exactly.
    at::Tensor x = at::randn({1, 32, 20}, gen).transpose(1, 2);  // [1, 20, 32], not contiguous
    auto mod = at::randn({1, 2, 32}, gen).chunk(2, 1);
    at::Tensor one_plus = 1 + mod[0], shift = mod[1];
    both r = run_both([&] { return fused::layer_norm_modulate(x, {}, {}, 1e-6, one_plus, shift, at::kFloat); });
    CHECK(at::equal(r.fused, r.composite));
    at::Tensor h = at::randn({1, 20, 32}, gen).to(at::kHalf), a = at::randn({1, 20, 32}, gen).to(at::kHalf);
    at::Tensor gate = at::randn({1, 1, 32}, gen);
    r = run_both([&] { return fused::gated_residual(h, a, gate, at::kHalf); });
    CHECK(at::equal(r.fused, r.composite));
    // A modulation table that broadcasts some other way than [B, 1, d] / [B, S, d].
    at::Tensor odd_table = at::randn({1, 1, 1}, gen).expand({1, 1, 32});
    at::Tensor y = at::randn({1, 20, 32}, gen);
    r = run_both([&] { return fused::gated_residual(y, y, odd_table, at::kFloat); });
    CHECK(at::equal(r.fused, r.composite));
}
