#include "parity.h"

#include <ATen/ATen.h>
#include <torch/version.h>

#include <algorithm>
#include <map>
#include <sstream>

namespace omnihost::parity {
namespace {

std::string index_str(int64_t flat, c10::IntArrayRef shape) {
    std::vector<int64_t> idx(shape.size());
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
        idx[d] = shape[d] ? flat % shape[d] : 0;
        flat = shape[d] ? flat / shape[d] : 0;
    }
    std::ostringstream o;
    o << "[";
    for (size_t i = 0; i < idx.size(); ++i) o << (i ? "," : "") << idx[i];
    o << "]";
    return o.str();
}

std::string shape_str(c10::IntArrayRef s) {
    std::ostringstream o;
    o << "[";
    for (size_t i = 0; i < s.size(); ++i) o << (i ? "x" : "") << s[i];
    o << "]";
    return o.str();
}

void check_shapes(const std::string &what, const at::Tensor &a, const at::Tensor &b) {
    if (!a.defined()) throw failure(what + ": result tensor is undefined");
    if (a.sizes() != b.sizes())
        throw failure(what + ": shape " + shape_str(a.sizes()) + ", expected " + shape_str(b.sizes()));
}

}  // namespace

std::map<std::string, case_fn> &registry() {
    static std::map<std::string, case_fn> cases;
    return cases;
}

// Names registered more than once (two components choosing the same case name). Recorded rather
// than thrown: an exception during static initialisation would abort before main can report it.
std::vector<std::string> &duplicate_cases() {
    static std::vector<std::string> names;
    return names;
}

void register_case(const std::string &name, case_fn fn) {
    if (registry().count(name)) {
        duplicate_cases().push_back(name);
        return;
    }
    registry()[name] = std::move(fn);
}

namespace {
double floor_atol = 0.0, floor_rtol = 0.0;
}  // namespace

void set_tolerance_floor(double atol, double rtol) {
    floor_atol = atol;
    floor_rtol = rtol;
}

void expect_close(const std::string &what, const at::Tensor &actual, const at::Tensor &expected, double atol,
                  double rtol, outcome &out) {
    check_shapes(what, actual, expected);
    atol = std::max(atol, floor_atol);
    rtol = std::max(rtol, floor_rtol);
    at::Tensor a = actual.detach().to(at::kCPU, at::kDouble).reshape({-1});
    at::Tensor b = expected.detach().to(at::kCPU, at::kDouble).reshape({-1});
    if (a.numel() == 0) return;
    at::Tensor diff = (a - b).abs();
    // NaN anywhere in the result is a failure, even against a NaN expectation.
    if (at::isnan(a).any().item<bool>()) {
        int64_t i = at::isnan(a).to(at::kByte).argmax().item<int64_t>();
        throw failure(what + ": NaN at " + index_str(i, actual.sizes()));
    }
    at::Tensor excess = diff - (atol + rtol * b.abs());
    const int64_t worst = excess.argmax().item<int64_t>();
    const double max_abs = diff.max().item<double>();
    // Relative deviation only where the expected value is not tiny (informative, not the criterion).
    at::Tensor big = b.abs() > std::max(atol, 1e-12);
    const double max_rel = big.any().item<bool>() ? (diff.masked_select(big) / b.abs().masked_select(big)).max().item<double>() : 0.0;
    out.max_abs = std::max(out.max_abs, max_abs);
    out.max_rel = std::max(out.max_rel, max_rel);
    if (excess[worst].item<double>() > 0) {
        const int64_t bad = (excess > 0).sum().item<int64_t>();
        std::ostringstream o;
        o.precision(9);
        o << what << ": max_abs=" << max_abs << "; worst at " << index_str(worst, actual.sizes())
          << " got " << a[worst].item<double>() << " expected " << b[worst].item<double>() << " ("
          << bad << " of " << a.numel() << " elements out of atol " << atol << " rtol " << rtol << ")";
        throw failure(o.str());
    }
}

void expect_equal(const std::string &what, const at::Tensor &actual, const at::Tensor &expected, outcome &out) {
    check_shapes(what, actual, expected);
    if (actual.scalar_type() != expected.scalar_type())
        throw failure(what + ": dtype " + std::string(c10::toString(actual.scalar_type())) + ", expected " +
                      std::string(c10::toString(expected.scalar_type())));
    at::Tensor a = actual.detach().to(at::kCPU).contiguous().reshape({-1});
    at::Tensor b = expected.detach().to(at::kCPU).contiguous().reshape({-1});
    if (a.numel() == 0) return;
    // Bit-for-bit: compare floating values through their integer bit patterns.
    at::Tensor ab = a, bb = b;
    switch (a.scalar_type()) {
    case at::kFloat: ab = a.view(at::kInt); bb = b.view(at::kInt); break;
    case at::kDouble: ab = a.view(at::kLong); bb = b.view(at::kLong); break;
    case at::kHalf:
    case at::kBFloat16: ab = a.view(at::kShort); bb = b.view(at::kShort); break;
    default: break;
    }
    at::Tensor ne = ab.ne(bb);
    const double max_abs = a.is_floating_point() || a.scalar_type() != at::kBool
                               ? (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>()
                               : ne.any().item<bool>() ? 1.0 : 0.0;
    out.max_abs = std::max(out.max_abs, max_abs);
    if (ne.any().item<bool>()) {
        const int64_t i = ne.to(at::kByte).argmax().item<int64_t>();
        std::ostringstream o;
        o.precision(10);
        o << what << ": not bit-identical, " << ne.sum().item<int64_t>() << " of " << a.numel()
          << " differ; first at " << index_str(i, actual.sizes()) << " got " << a[i].item<double>()
          << " expected " << b[i].item<double>() << " (max_abs=" << max_abs << ")";
        throw failure(o.str());
    }
}

void expect_equal_reference_kernels(const std::string &what, const at::Tensor &actual, const at::Tensor &expected,
                                    outcome &out) {
#if TORCH_VERSION_MAJOR == 1 && TORCH_VERSION_MINOR == 13
    expect_equal(what, actual, expected, out);
#else
    if (actual.defined() && actual.scalar_type() != expected.scalar_type())
        throw failure(what + ": dtype " + std::string(c10::toString(actual.scalar_type())) + ", expected " +
                      std::string(c10::toString(expected.scalar_type())));
    const double ulp = expected.scalar_type() == at::kDouble     ? 0x1p-52
                       : expected.scalar_type() == at::kBFloat16 ? 0x1p-8
                       : expected.scalar_type() == at::kHalf     ? 0x1p-11
                                                                 : 0x1p-23;
    const bool floating = expected.is_floating_point();
    expect_close(what + " (within 2 ulp: goldens from libtorch 1.13)", actual, expected, 0.0, floating ? 2 * ulp : 0.0,
                 out);
#endif
}

}  // namespace omnihost::parity
