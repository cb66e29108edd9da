#include "parity.h"

#include <ATen/ATen.h>

// doctest last: c10 (glog) defines its own CHECK macro.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

using namespace omnihost::parity;

TEST_CASE("models.parity: expect_close passes within tolerance and reports the worst deviation") {
    outcome out;
    at::Tensor b = at::tensor({1.0f, -2.0f, 0.0f});
    at::Tensor a = b + at::tensor({1e-6f, -2e-6f, 0.0f});
    CHECK_NOTHROW(expect_close("x", a, b, 1e-5, 0, out));
    CHECK(out.max_abs == doctest::Approx(2e-6).epsilon(0.05));
    CHECK(out.max_rel == doctest::Approx(1e-6).epsilon(0.05));
}

TEST_CASE("models.parity: expect_close fails on a deviation, a shape mismatch or NaN") {
    outcome out;
    at::Tensor b = at::zeros({2, 3});
    at::Tensor a = b.clone();
    a[1][2] = 1e-3;
    try {
        expect_close("video", a, b, 1e-5, 1e-5, out);
        FAIL("expected a failure");
    } catch (const failure &e) {
        const std::string m = e.what();
        CHECK(m.find("video") != std::string::npos);
        CHECK(m.find("[1,2]") != std::string::npos);
    }
    CHECK_THROWS_AS(expect_close("x", at::zeros({3, 2}), b, 1, 1, out), failure);
    at::Tensor n = b.clone();
    n[0][0] = std::nanf("");
    CHECK_THROWS_AS(expect_close("x", n, b, 1, 1, out), failure);
    // rtol scales with the expected value.
    CHECK_NOTHROW(expect_close("x", at::tensor({100.001f}), at::tensor({100.0f}), 0, 1e-4, out));
    CHECK_THROWS_AS(expect_close("x", at::tensor({100.1f}), at::tensor({100.0f}), 0, 1e-4, out), failure);
}

TEST_CASE("models.parity: expect_equal is bit-exact and checks dtypes") {
    outcome out;
    at::Tensor b = at::tensor({0.1f, 0.2f});
    CHECK_NOTHROW(expect_equal("s", b.clone(), b, out));
    at::Tensor a = b.clone();
    a[1] = std::nextafter(0.2f, 1.0f);  // one ulp away
    CHECK_THROWS_AS(expect_equal("s", a, b, out), failure);
    CHECK_THROWS_AS(expect_equal("s", b.to(at::kDouble), b, out), failure);
    CHECK_NOTHROW(expect_equal("t", at::tensor({999, 750}, at::kLong), at::tensor({999, 750}, at::kLong), out));
    CHECK_THROWS_AS(expect_equal("t", at::tensor({999, 751}, at::kLong), at::tensor({999, 750}, at::kLong), out), failure);
}
