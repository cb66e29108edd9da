// Golden parity harness. A case is a function registered with PARITY_CASE; the runner main
// (parity_main.cpp) takes --golden DIR (default: the configured ../shared/golden) and optional
// name filters, runs every matching case and prints exactly one line per case:
//   PASS wan21/transformer_forward  max_abs=1.2e-06 max_rel=3.1e-06 (atol 2e-05 rtol 1e-05)
//   FAIL wan21/vae_decode  output: max_abs=0.3 at [0,1,2,3,4] (atol 1e-05 rtol 1e-05)
// It exits non-zero if any case fails. A missing golden folder is a failure, never a skip.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace omnihost::parity {

struct context {
    std::filesystem::path golden;  // root of the golden set (contains wan21_tiny/, wan21_cases/, ...)
    // Optional second root (--override DIR) whose files replace the golden set's files of the same
    // relative path: references of the same calls and inputs re-recorded on another libtorch, whose
    // elementwise kernels round differently (tests/golden_local/torch2). Empty: no override.
    std::filesystem::path override_root;
    mutable std::vector<std::string> overrides_used;  // relative paths read from override_root
    // Where and in which dtype a case should build its model (runner flags --device/--dtype).
    // A case that honours them reads them through device()/dtype(); the runner marks the result
    // of a case that never asked as having run on cpu/fp32, so a CUDA or bf16 run never passes
    // silently on the CPU. Comparisons always happen on the CPU (expect_close converts).
    c10::Device run_device = c10::kCPU;
    c10::ScalarType run_dtype = c10::kFloat;
    mutable bool placed = false;  // set when the case asked for device() or dtype()
    c10::Device device() const { placed = true; return run_device; }
    c10::ScalarType dtype() const { placed = true; return run_dtype; }
};

// Reduced-precision runs (--dtype bf16/fp16) compare against the fp32 goldens with at least this
// tolerance (the runner sets it; expect_close uses max(case tolerance, floor)). 0/0 = off.
void set_tolerance_floor(double atol, double rtol);

// Thrown by the check helpers; the runner catches it and prints FAIL with the message.
struct failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What a case reports back on success (worst deviation over every tensor it checked).
struct outcome {
    double max_abs = 0.0;
    double max_rel = 0.0;
    std::string note;  // e.g. "atol 2e-05 rtol 1e-05"
};

// Elementwise |a - b| <= atol + rtol * |b| (b = expected). Throws failure naming `what`, the worst
// element's index and values. Shapes must match exactly. Accumulates worst deviations into `out`.
void expect_close(const std::string &what, const at::Tensor &actual, const at::Tensor &expected,
                  double atol, double rtol, outcome &out);
// Bit-for-bit equality (dtype converted to expected's dtype first is NOT done: dtypes must match).
void expect_equal(const std::string &what, const at::Tensor &actual, const at::Tensor &expected,
                  outcome &out);

// For values the reference computed with libtorch's elementwise float kernels (atan, exp, ...):
// bit-for-bit on the libtorch that produced the goldens (1.13, see the golden README); on another
// libtorch its vectorised math library may round differently, so there the values must agree
// within 2 ulp (relative 2^-22 for float32, 2^-7 for bf16): one ulp in the kernel's result, which
// the rounding of the following op (e.g. atan(sigma) / pi * 2) can turn into two — 2.15's float
// atan is correctly rounded where 1.13's is 1 ulp off.
void expect_equal_reference_kernels(const std::string &what, const at::Tensor &actual, const at::Tensor &expected,
                                    outcome &out);

using case_fn = std::function<outcome(const context &)>;
void register_case(const std::string &name, case_fn fn);

struct registrar {
    registrar(const std::string &name, case_fn fn) { register_case(name, std::move(fn)); }
};

}  // namespace omnihost::parity

#define OMNIHOST_PARITY_CAT2(a, b) a##b
#define OMNIHOST_PARITY_CAT(a, b) OMNIHOST_PARITY_CAT2(a, b)
// PARITY_CASE("wan21/transformer_forward") { ... return outcome; }  (ctx is the context)
#define PARITY_CASE(name)                                                                        \
    static ::omnihost::parity::outcome OMNIHOST_PARITY_CAT(parity_case_, __LINE__)(             \
        const ::omnihost::parity::context &ctx);                                                 \
    static ::omnihost::parity::registrar OMNIHOST_PARITY_CAT(parity_reg_, __LINE__)(             \
        name, &OMNIHOST_PARITY_CAT(parity_case_, __LINE__));                                     \
    static ::omnihost::parity::outcome OMNIHOST_PARITY_CAT(parity_case_, __LINE__)(              \
        [[maybe_unused]] const ::omnihost::parity::context &ctx)
