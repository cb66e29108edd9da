// Golden parity of the schedulers: timestep/sigma tables (bit-exact) and step sequences.
#include "golden.h"

#include "core/config.h"
#include "schedulers/flow_match_euler.h"
#include "schedulers/unipc_multistep.h"

#include <ATen/ATen.h>

using namespace omnihost::parity;
namespace sch = omnihost::models::schedulers;

namespace {

std::string shift_tag(double s) { return std::to_string(static_cast<int>(s)); }

// The Wan repo UniPC config (from the golden model) with the shift under test.
std::unique_ptr<sch::scheduler> wan_unipc(const context &ctx, double shift) {
    return sch::make_scheduler(golden_path(ctx, "wan21_tiny/scheduler/scheduler_config.json"), shift);
}

std::unique_ptr<sch::scheduler> flow_match(double shift) {
    sch::flow_match_config c;  // "other fields default"
    c.shift = shift;
    return std::make_unique<sch::flow_match_euler_scheduler>(c);
}

template <typename Make>
outcome check_tables(const golden_case &gc, Make make) {
    outcome out;
    int checked = 0;
    for (double shift : gc.info()["shifts"].get<std::vector<double>>()) {
        auto s = make(shift);
        for (int64_t n : gc.info()["N"].get<std::vector<int64_t>>()) {
            const std::string p = "shift" + shift_tag(shift) + "_N" + std::to_string(n);
            s->set_timesteps(n);
            expect_equal(p + ".timesteps", s->timesteps(), gc.tensor(p + ".timesteps"), out);
            expect_equal(p + ".sigmas", s->sigmas(), gc.tensor(p + ".sigmas"), out);
            ++checked;
        }
    }
    out.note = "exact, " + std::to_string(checked) + " tables";
    return out;
}

template <typename Make>
outcome check_sequence(const golden_case &gc, Make make) {
    outcome out;
    auto [atol, rtol] = gc.tolerance();
    auto s = make();
    for (int64_t n : gc.info()["N"].get<std::vector<int64_t>>()) {
        const std::string p = "N" + std::to_string(n) + ".";
        s->set_timesteps(n);
        expect_equal(p + "timesteps", s->timesteps(), gc.tensor(p + "timesteps"), out);
        at::Tensor outputs = gc.tensor(p + "model_outputs");
        at::Tensor x = gc.tensor(p + "sample_init");
        for (int64_t i = 0; i < s->num_steps(); ++i) {
            x = s->step(outputs[i], s->timestep(i), x);
            expect_close(p + "sample_" + std::to_string(i), x, gc.tensor(p + "sample_" + std::to_string(i)), atol, rtol, out);
        }
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "atol %g rtol %g", atol, rtol);
    out.note = buf;
    return out;
}

}  // namespace

PARITY_CASE("wan21/scheduler_unipc_tables") {
    auto gc = golden_case::load(ctx, "wan21_cases/scheduler_unipc_tables");
    return check_tables(gc, [&](double shift) { return wan_unipc(ctx, shift); });
}

PARITY_CASE("wan21/scheduler_flowmatch_tables") {
    auto gc = golden_case::load(ctx, "wan21_cases/scheduler_flowmatch_tables");
    return check_tables(gc, [](double shift) { return flow_match(shift); });
}

PARITY_CASE("wan21/scheduler_unipc_sequence") {
    auto gc = golden_case::load(ctx, "wan21_cases/scheduler_unipc_sequence");
    return check_sequence(gc, [&] { return wan_unipc(ctx, 3.0); });
}

PARITY_CASE("wan21/scheduler_flowmatch_sequence") {
    auto gc = golden_case::load(ctx, "wan21_cases/scheduler_flowmatch_sequence");
    return check_sequence(gc, [] { return flow_match(3.0); });
}
