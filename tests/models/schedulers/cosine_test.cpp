// CosineDPMSolverMultistepScheduler and its Brownian-tree noise: config handling, determinism, the
// statistics of the noise, and bit-for-bit agreement with torchsde / numpy on recorded data.
#include "core/config.h"
#include "core/safetensors.h"
#include "schedulers/torchsde_brownian.h"
#include "schedulers/cosine_dpm_multistep.h"

#include <ATen/ATen.h>

#include <cmath>

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

using namespace omnihost::models;
using namespace omnihost::models::schedulers;

namespace {

constexpr int64_t n = 200000;  // elements per draw: variance estimates to ~0.3 %

torchsde_brownian_tree tree(uint64_t seed) {
    return torchsde_brownian_tree(static_cast<double>(0.3f), 500.0, {n}, at::kDouble, seed);
}

double var_of(const at::Tensor &t) { return t.var(/*unbiased=*/false).item<double>(); }

}  // namespace

TEST_CASE("models.schedulers.brownian: same seed -> same W, any query order; other seed -> other W") {
    auto a = tree(21), b = tree(21), c = tree(22);
    const at::Tensor a1 = a(0.3, 3.7), a2 = a(3.7, 120.25);
    const at::Tensor b2 = b(3.7, 120.25), b1 = b(0.3, 3.7);  // reversed order
    CHECK(at::equal(a1, b1));
    CHECK(at::equal(a2, b2));
    CHECK_FALSE(at::allclose(a1, c(0.3, 3.7)));
    CHECK(at::equal(a(0.0, 0.3), at::zeros({n}, at::kDouble)));  // clamped below t0: empty interval
}

TEST_CASE("models.schedulers.brownian: increments have mean 0 and variance |t1 - t0|") {
    auto w = tree(7);
    for (auto [lo, hi] : {std::pair{0.3, 500.0}, {1.0, 1.5}, {7.3, 7.31}, {0.30001, 0.3002}, {41.0, 337.0}}) {
        const at::Tensor d = w(lo, hi);
        const double dt = hi - lo;
        CAPTURE(lo);
        CAPTURE(hi);
        CHECK(std::abs(d.mean().item<double>()) < 5 * std::sqrt(dt / n));
        CHECK(var_of(d) / dt == doctest::Approx(1.0).epsilon(0.02));
    }
}

TEST_CASE("models.schedulers.brownian: disjoint increments are uncorrelated, and (a,c) = (a,b) + (b,c)") {
    auto w = tree(99);
    const double a = 0.9, b = 12.5, c = 13.0, d = 250.0;
    const at::Tensor ab = w(a, b), bc = w(b, c), cd = w(c, d);
    for (const auto &[x, y] : {std::pair{ab, bc}, {bc, cd}, {ab, cd}}) {
        const double corr = ((x - x.mean()) * (y - y.mean())).mean().item<double>() / std::sqrt(var_of(x) * var_of(y));
        CHECK(std::abs(corr) < 0.015);  // ~7 standard errors at n = 200k
    }
    // Sums of the tree's nodes in another grouping: equal up to rounding.
    CHECK((w(a, c) - (ab + bc)).abs().max().item<double>() < 1e-9);
    CHECK((w(a, d) - (ab + bc + cd)).abs().max().item<double>() < 1e-9);
}

TEST_CASE("models.schedulers.brownian: the noise sampler gives standard normal noise per scheduler step") {
    cosine_dpm_multistep_scheduler s;
    s.set_timesteps(8);
    torchsde_noise_sampler sampler(0.3, 500.0, {n}, at::kFloat, 5);
    std::vector<at::Tensor> zs;
    for (int64_t i = 0; i + 1 < 8; ++i) {  // the last step (sigma_next = 0) has no noise weight
        const at::Tensor z = sampler(s.sigmas()[i], s.sigmas()[i + 1]);
        CHECK((z.scalar_type() == at::kFloat));
        CHECK(std::abs(z.mean().item<double>()) < 0.02);
        CHECK(var_of(z.to(at::kDouble)) == doctest::Approx(1.0).epsilon(0.02));
        zs.push_back(z.to(at::kDouble));
    }
    // Successive steps use disjoint intervals: independent noise.
    for (size_t i = 0; i + 1 < zs.size(); ++i)
        CHECK(std::abs((zs[i] * zs[i + 1]).mean().item<double>()) < 0.015);
}

TEST_CASE("models.schedulers.cosine: the seed decides the trajectory") {
    auto run = [](uint64_t seed) {
        cosine_dpm_multistep_scheduler s;
        s.set_noise_seed(seed);
        s.set_timesteps(6);
        at::Tensor x = at::full({2, 4, 8}, 3.0f) * static_cast<float>(s.init_noise_sigma());
        std::vector<at::Tensor> xs;
        for (int64_t i = 0; i < s.num_steps(); ++i) {
            at::Tensor out = s.scale_model_input(x, s.timestep(i)) * 0.5f;  // a stand-in model
            x = s.step(out, s.timestep(i), x);
            xs.push_back(x);
        }
        return xs;
    };
    const auto a = run(3), b = run(3), c = run(4);
    for (size_t i = 0; i < a.size(); ++i) CHECK(at::equal(a[i], b[i]));
    CHECK_FALSE(at::allclose(a[0], c[0]));
    CHECK_FALSE(at::allclose(a[a.size() - 2], c[c.size() - 2]));
}

TEST_CASE("models.schedulers.cosine: tables, timestep mapping, config checks") {
    auto s = make_scheduler(json_config::parse(R"({"_class_name": "CosineDPMSolverMultistepScheduler", "sigma_max": 80})", "s.json"));
    auto *c = dynamic_cast<cosine_dpm_multistep_scheduler *>(s.get());
    REQUIRE(c != nullptr);
    CHECK(c->init_noise_sigma() == doctest::Approx(std::sqrt(80.0 * 80.0 + 1)));
    s->set_timesteps(4);
    CHECK(s->sigmas().size(0) == 5);
    CHECK(s->sigmas()[0].item<double>() == doctest::Approx(80.0).epsilon(1e-6));
    CHECK(s->sigmas()[3].item<double>() == doctest::Approx(0.3).epsilon(1e-6));
    CHECK(s->sigmas()[4].item<double>() == 0.0);
    CHECK(s->timestep_value(0) == doctest::Approx(std::atan(80.0) * 2 / M_PI).epsilon(1e-6));
    CHECK_THROWS_AS(s->set_timesteps(0), model_error);
    CHECK_THROWS_AS(s->step(at::zeros({2}), s->timestep(1), at::zeros({2})), model_error);  // skipped a step
    for (const char *bad : {R"({"sigma_schedule": "linear"})", R"({"prediction_type": "sample"})",
                            R"({"solver_order": 3})", R"({"solver_type": "foo"})", R"({"final_sigmas_type": "x"})",
                            R"({"sigma_min": 10, "sigma_max": 5})"})
        CHECK_THROWS_AS(cosine_dpm_config::from_json(json_config::parse(bad, "s.json")), model_error);
    CHECK_THROWS_AS(make_scheduler(json_config::parse(R"({"_class_name": "CosineDPMSolverMultistepScheduler"})", "s.json"), 3.0),
                    model_error);
    // An injected source replaces the Brownian noise and must match the sample's shape.
    c->set_timesteps(2);
    c->set_noise_source([](int64_t, double, double, const at::Tensor &) { return at::zeros({3}); });
    CHECK_THROWS_AS(c->step(at::zeros({2}), c->timestep(0), at::zeros({2})), model_error);
}

// ---------------------------------------------------------------------------------------------
// torchsde reproduction: data/torchsde_reference.safetensors was written by torch 1.13.1 +
// torchsde 0.2.6 + numpy 1.26.4 (make_torchsde_reference.py beside this file).

namespace {
const tensor_store &torchsde_reference() {
    static const tensor_store store = tensor_store::open(OMNIHOST_TORCHSDE_REFERENCE);
    return store;
}
}  // namespace

TEST_CASE("models.schedulers.torchsde: numpy SeedSequence.generate_state") {
    struct item {
        uint64_t entropy;
        std::vector<uint64_t> spawn;
        std::vector<uint32_t> state;
    };
    const std::vector<item> cases{
        {3, {}, {1578447408u, 987605899u, 2045978205u, 3129194198u}},
        {3, {0, 0}, {884927448u, 1232960598u, 1855180829u, 2198325685u}},
        {21, {5, 3}, {2202064012u, 1652770798u, 3462183669u, 100086677u}},
        {1099511627781ull, {12345, 17}, {426929026u, 63388464u, 2998044485u, 316991605u}},
        {9223372036854775819ull, {8589934593ull, 40}, {3701130098u, 2724207506u, 556280850u, 3673266225u}},
        {0, {1, 1}, {712187387u, 1606772624u, 2046284749u, 1855274158u}},
    };
    for (const auto &c : cases) {
        CAPTURE(c.entropy);
        CHECK(seed_sequence_state(c.entropy, c.spawn, 24, 4) == c.state);
    }
}

TEST_CASE("models.schedulers.torchsde: interval queries equal torchsde's BrownianInterval bit for bit") {
    const auto &ref = torchsde_reference();
    torchsde_brownian_tree tree(static_cast<double>(0.3f), 500.0, {2, 8, 16}, at::kFloat, 5);
    const at::Tensor q = ref.get("queries");
    for (int64_t i = 0; i < q.size(0); ++i) {
        CAPTURE(i);
        const at::Tensor got = tree(q[i][0].item<double>(), q[i][1].item<double>());
        CHECK(at::equal(got, ref.get("query_" + std::to_string(i))));
    }
    // Times that round to one grid point: torchsde recurses forever; here the increment is 0.
    CHECK(at::equal(tree(1.0, 1.0000001), at::zeros({2, 8, 16})));
}

TEST_CASE("models.schedulers.torchsde: the scheduler's noise equals diffusers' BrownianTreeNoiseSampler bit for bit") {
    const auto &ref = torchsde_reference();
    for (uint64_t seed : {uint64_t{21}, (uint64_t{1} << 40) + 7, (uint64_t{1} << 40) + 3}) {
        for (int n : {5, 8, 16}) {
            const std::string p = "seed" + std::to_string(seed) + "_N" + std::to_string(n) + ".";
            const at::Tensor sigmas = ref.get(p + "sigmas");
            torchsde_noise_sampler sampler(0.3, 500, {2, 8, 16}, at::kFloat, seed);
            for (int i = 0; i + 1 < n; ++i) {
                CAPTURE(p);
                CAPTURE(i);
                CHECK(at::equal(sampler(sigmas[i], sigmas[i + 1]), ref.get(p + "noise_" + std::to_string(i))));
            }
        }
    }
}
