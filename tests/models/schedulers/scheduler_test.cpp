#include "core/config.h"
#include "core/safetensors.h"
#include "schedulers/flow_match_euler.h"
#include "schedulers/unipc_multistep.h"
#include "model_test_support.h"

#include <ATen/ATen.h>

// doctest last: c10 (glog) defines its own CHECK macro.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using namespace omnihost::models;
using namespace omnihost::models::schedulers;

namespace {
const char *wan_unipc_json = R"({"_class_name": "UniPCMultistepScheduler", "flow_shift": 3.0, "solver_order": 2,
    "solver_type": "bh2", "prediction_type": "flow_prediction", "use_flow_sigmas": true, "predict_x0": true,
    "lower_order_final": true, "final_sigmas_type": "zero", "disable_corrector": [], "some_future_key": 1})";
std::string what_of(const std::function<void()> &fn) { return test_support::error_of<model_error>(fn); }
}  // namespace

TEST_CASE("models.schedulers: steps <= 0 is an error naming num_inference_steps") {
    unipc_multistep_scheduler u(unipc_config::from_json(json_config::parse(wan_unipc_json, "s.json")));
    flow_match_euler_scheduler f;
    for (int64_t n : {0, -3}) {
        CHECK(what_of([&] { u.set_timesteps(n); }).find("num_inference_steps") != std::string::npos);
        CHECK(what_of([&] { f.set_timesteps(n); }).find("num_inference_steps") != std::string::npos);
    }
}

TEST_CASE("models.schedulers: documented UniPC and FlowMatch tables") {
    auto u = make_scheduler(json_config::parse(wan_unipc_json, "s.json"));
    CHECK(u->name() == "UniPCMultistepScheduler");
    u->set_timesteps(4);
    CHECK((u->timesteps().scalar_type() == at::kLong));
    CHECK(at::equal(u->timesteps(), at::tensor({999, 900, 750, 500}, at::kLong)));
    CHECK(u->sigmas()[0].item<float>() == 0.999999f);
    CHECK(u->sigmas()[4].item<float>() == 0.0f);
    u->set_timesteps(2);
    CHECK(at::equal(u->timesteps(), at::tensor({999, 750}, at::kLong)));

    flow_match_config fc;
    fc.shift = 7.0;
    flow_match_euler_scheduler f(fc);
    f.set_timesteps(2);
    CHECK((f.timesteps().scalar_type() == at::kFloat));
    CHECK(f.timesteps()[0].item<float>() == 1000.0f);
    CHECK(f.timesteps()[1].item<float>() == doctest::Approx(46.7557).epsilon(1e-5));
    CHECK(f.sigmas().size(0) == 3);
}

TEST_CASE("models.schedulers: flow_shift override and config validation") {
    auto u = make_scheduler(json_config::parse(wan_unipc_json, "s.json"), 5.0);
    CHECK(u->shift() == 5.0);
    u->set_timesteps(50);
    CHECK(u->timesteps()[1].item<int64_t>() == 995);  // shift 5, N=50: 999, 995, 991, ...

    auto bad = [](const std::string &j) { return what_of([&] { make_scheduler(json_config::parse(j, "bad.json")); }); };
    CHECK(bad(R"({"_class_name": "DDIMScheduler"})").find("_class_name") != std::string::npos);
    CHECK(bad(R"({"_class_name": "UniPCMultistepScheduler", "use_flow_sigmas": false})").find("use_flow_sigmas") != std::string::npos);
    CHECK(bad(R"({"_class_name": "UniPCMultistepScheduler", "use_flow_sigmas": true, "prediction_type": "epsilon"})")
              .find("prediction_type") != std::string::npos);
    CHECK(bad(R"({"_class_name": "UniPCMultistepScheduler", "use_flow_sigmas": true, "prediction_type": "flow_prediction", "solver_type": "x"})")
              .find("solver_type") != std::string::npos);
    CHECK(bad(R"({"_class_name": "FlowMatchEulerDiscreteScheduler", "use_dynamic_shifting": true})")
              .find("use_dynamic_shifting") != std::string::npos);
    CHECK(bad(R"({"_class_name": "FlowMatchEulerDiscreteScheduler", "shift": "three"})").find("'shift'") != std::string::npos);
}

TEST_CASE("models.schedulers: scheduler_config.json numbers are bounded, errors name the key") {
    auto error = [](const std::string &base, const std::string &extra) {
        return what_of([&] { make_scheduler(json_config::parse("{" + base + ", " + extra + "}", "big.json")); });
    };
    // Per scheduler: values out of bounds ({key, value}: the error names 'key' and the file), and
    // the published config's values, which still load.
    struct bounds {
        std::string base;
        std::vector<std::pair<std::string, std::string>> refused;
        const char *published;
    };
    const bounds schedulers[] = {
        {R"("_class_name": "UniPCMultistepScheduler", "use_flow_sigmas": true, "prediction_type": "flow_prediction")",
         {{"num_train_timesteps", "4611686018427387904"}, {"num_train_timesteps", "1"}, {"solver_order", "1000000"},
          {"solver_order", "0"}, {"flow_shift", "1e300"}},
         R"("num_train_timesteps": 1000, "solver_order": 3, "flow_shift": 12.0)"},
        {R"("_class_name": "FlowMatchEulerDiscreteScheduler")",
         {{"num_train_timesteps", "1000000000000"}, {"shift", "1e300"}, {"shift_terminal", "1.0"}},
         R"("num_train_timesteps": 1000, "shift": 3.0, "shift_terminal": 0.02)"},
        {R"("_class_name": "CosineDPMSolverMultistepScheduler")",
         {{"num_train_timesteps", "1000000000000"}, {"sigma_max", "1e300"}, {"sigma_data", "1e300"}, {"rho", "1e300"}},
         R"("sigma_max": 500, "sigma_data": 1.0, "rho": 1.0)"},
    };
    for (const auto &s : schedulers) {
        for (const auto &[key, value] : s.refused) {
            const std::string extra = "\"" + key + "\": " + value;
            const std::string message = error(s.base, extra);
            CHECK_MESSAGE(message.find("'" + key + "'") != std::string::npos, extra, " -> ", message);
            CHECK_MESSAGE(message.find("big.json") != std::string::npos, message);
        }
        CHECK_MESSAGE(error(s.base, s.published) == "<no error>", s.published);
    }
}

TEST_CASE("models.schedulers: step bookkeeping errors") {
    auto u = make_scheduler(json_config::parse(wan_unipc_json, "s.json"));
    at::Tensor x = at::randn({1, 4, 2, 3, 5});
    CHECK_THROWS_AS(u->step(x, u->timesteps().defined() ? u->timestep(0) : at::Tensor(), x), model_error);
    u->set_timesteps(2);
    // Wrong timestep for the current step.
    CHECK(what_of([&] { u->step(x, u->timestep(1), x); }).find("step 0") != std::string::npos);
    x = u->step(x, u->timestep(0), x);
    x = u->step(x, u->timestep(1), x);
    CHECK(u->step_index() == 2);
    CHECK_THROWS_AS(u->step(x, at::Tensor(), x), model_error);  // past the end
    CHECK_THROWS_AS(u->timestep(5), model_error);
}

TEST_CASE("models.schedulers: the last UniPC step returns the x0 prediction; Euler is linear in v") {
    auto u = make_scheduler(json_config::parse(wan_unipc_json, "s.json"));
    u->set_timesteps(1);
    at::Tensor x = at::randn({1, 4, 2, 3, 5}), v = at::randn({1, 4, 2, 3, 5});
    at::Tensor out = u->step(v, u->timestep(0), x);
    at::Tensor x0 = x - u->sigmas()[0] * v;
    CHECK(at::allclose(out, x0, 0, 0));  // sigma_next = 0: exactly the x0 prediction

    flow_match_euler_scheduler f;
    f.set_timesteps(3);
    at::Tensor y = f.step(v, f.timestep(0), x);
    CHECK(at::allclose(y, x + (f.sigmas()[1] - f.sigmas()[0]) * v));
    // bf16 model output: the sample is cast back to bf16, as diffusers does.
    at::Tensor yb = f.step(v.to(at::kBFloat16), f.timestep(1), y);
    CHECK((yb.scalar_type() == at::kBFloat16));
}
