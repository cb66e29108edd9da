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

TEST_CASE("fused softmax matches at::softmax in fp32, for fp32 and bf16 scores and outputs") {
    auto gen = at::detail::createCPUGenerator(17);
    for (auto in : {at::kFloat, at::kBFloat16}) {
        for (int64_t d : {1, 5, 33, 512}) {
            CAPTURE(d);
            // Scores as attention makes them: a spread of a few units, some rows with one large value.
            at::Tensor x = (at::randn({2, 3, 7, d}, gen) * 4).to(in);
            x.select(2, 0).select(2, 0).fill_(60.0);
            both r = run_both([&] { return fused::softmax_lastdim(x, in); });
            // Probabilities in [0, 1]: within a few fp32 ulp of 1 (one bf16 ulp when stored as bf16).
            CHECK(max_diff(r) <= (in == at::kFloat ? 2e-6 : 1.0 / 128));
            const at::Tensor sums = r.fused.to(at::kFloat).sum(-1);
            CHECK((sums - 1).abs().max().item<double>() <= (in == at::kFloat ? 2e-6 : 0.05));
        }
    }
    // exp over its whole clamped range at fp32 precision: bf16 scores (so the kernel runs) with fp32
    // probabilities, [-87, 0] after the max is taken off, each within 2e-6 of ATen's fp32 softmax
    // relative to its own value (a constant error in exp would cancel; one that varies would not).
    at::Tensor wide = at::linspace(-87.0, 0.0, 999).to(at::kBFloat16).unsqueeze(0);
    fused::set_enabled_for_bench(true);
    const at::Tensor got = fused::softmax_lastdim(wide, at::kFloat);
    const at::Tensor want = at::softmax(wide.to(at::kFloat), -1);
    const at::Tensor rel = (got - want).abs() / want.clamp_min(1e-37);
    CHECK(rel.max().item<double>() <= 2e-6);
}

TEST_CASE("bf16 GELU(tanh) after a linear: within one bf16 ulp of the fp32 GELU over the whole range") {
    // An identity linear makes the GELU's input exact: [-12, 12] in 2,401 steps. The reference is
    // GELU computed in fp32 and rounded once, as libtorch 2.x (and so diffusers) computes bf16 GELU;
    // libtorch 1.13's own bf16 GELU is not the reference: it rounds tanh to bf16 and answers 0 for
    // x below about -3.8, where the value is still around -1e-4.
    const int64_t n = 2401;
    at::Tensor x = at::linspace(-12.0, 12.0, n).to(at::kBFloat16).view({1, n, 1});
    at::Tensor w = at::ones({1, 1}).to(at::kBFloat16);
    fused::set_enabled_for_bench(true);
    const at::Tensor got = fused::linear(x, w, {}, fused::activation::gelu_tanh).to(at::kFloat);
    const at::Tensor want = at::gelu(x.to(at::kFloat), "tanh").to(at::kBFloat16).to(at::kFloat);
    // One unit in the last place of bf16 at each value (8 significant bits); 1e-6 in the far
    // negative tail, where fp32's 1 + tanh(u) has cancelled to 0 and the fused form keeps ~1e-30.
    const at::Tensor allowed = (want.abs() / 128).clamp_min(1e-6);
    const at::Tensor bad = ((got - want).abs() > allowed).flatten().nonzero().flatten();
    for (int64_t k = 0; k < std::min<int64_t>(bad.numel(), 8); ++k) {
        const int64_t i = bad[k].item<int64_t>();
        MESSAGE(x.flatten()[i].item<float>() << " -> " << got.flatten()[i].item<float>() << ", fp32 GELU rounded "
                                             << want.flatten()[i].item<float>());
    }
    CHECK(bad.numel() == 0);
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
