// Golden parity of the schedulers: timestep/sigma tables (bit-exact) and step sequences, for the
// Wan schedulers (UniPC flow, FlowMatchEuler) and Stable Audio's CosineDPMSolverMultistep.
// Every scheduler parameter comes from the case file (its "scheduler" / "call" text, "config",
// "shifts", "N"), none from here: a case with another shift or config runs with that.
#include "case_params.h"
#include "golden.h"

#include "core/config.h"
#include "core/safetensors.h"  // model_error
#include "schedulers/cosine_dpm_multistep.h"
#include "schedulers/scheduler.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>

using namespace omnihost::parity;
namespace sch = omnihost::models::schedulers;

namespace {

std::unique_ptr<sch::scheduler> build(const golden_case &gc, const nlohmann::json &cfg) {
    try {
        return sch::make_scheduler(omnihost::models::json_config::parse(cfg.dump(), gc.name() + ".json scheduler"));
    } catch (const omnihost::models::model_error &e) {
        throw failure(std::string("cannot build the case's scheduler: ") + e.what());
    }
}

std::vector<int64_t> steps_of(const golden_case &gc) {
    const auto n = given(gc.info(), "N");
    if (!n || !n->is_array()) throw failure(gc.name() + ".json: no \"N\" list");
    return n->get<std::vector<int64_t>>();
}

std::string text_of(const golden_case &gc, const std::string &key) {
    const auto v = given(gc.info(), key);
    if (!v || !v->is_string()) throw failure(gc.name() + ".json: no \"" + key + "\" text");
    return v->get<std::string>();
}

std::string format_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

std::string replace_all(std::string s, const std::string &from, const std::string &to) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
    return s;
}

// Tensor-name prefix of one table from the case's "naming" ("shift{SHIFT}_N{N}.timesteps / ...").
std::string table_prefix(const golden_case &gc, const std::optional<double> &shift, int64_t n) {
    std::string pattern = "N{N}";
    if (const auto naming = given(gc.info(), "naming")) {
        pattern = naming->get<std::string>();
        pattern = pattern.substr(0, pattern.find(".timesteps"));
    }
    if (shift) pattern = replace_all(pattern, "{SHIFT}", format_number(*shift));
    return replace_all(pattern, "{N}", std::to_string(n));
}

outcome check_tables(const context &ctx, const golden_case &gc) {
    outcome out;
    int checked = 0;
    const std::string call = text_of(gc, "call");
    std::vector<std::optional<double>> shifts{std::nullopt};
    if (const auto s = given(gc.info(), "shifts")) {
        shifts.clear();
        for (double v : s->get<std::vector<double>>()) shifts.emplace_back(v);
    }
    for (const auto &shift : shifts) {
        std::map<std::string, nlohmann::json> values;
        if (shift) values["SHIFT"] = *shift;
        auto s = build(gc, scheduler_config(ctx, gc.info(), call, values));
        if (const auto ins = given(gc.info(), "init_noise_sigma")) {
            auto *c = dynamic_cast<sch::cosine_dpm_multistep_scheduler *>(s.get());
            if (!c) throw failure("init_noise_sigma stated for a scheduler without one");
            const double want = ins->get<double>();
            if (std::abs(c->init_noise_sigma() - want) > 1e-9 * want)
                throw failure("init_noise_sigma " + std::to_string(c->init_noise_sigma()) + " != " + std::to_string(want));
        }
        for (int64_t n : steps_of(gc)) {
            const std::string p = table_prefix(gc, shift, n);
            s->set_timesteps(n);
            expect_equal_reference_kernels(p + ".timesteps", s->timesteps(), gc.tensor(p + ".timesteps"), out);
            expect_equal(p + ".sigmas", s->sigmas(), gc.tensor(p + ".sigmas"), out);
            ++checked;
        }
    }
    out.note = "exact, " + std::to_string(checked) + " tables";
    return out;
}

// s.set_timesteps(N); for each t: [scaled_input_i = s.scale_model_input(x, t)]; x = s.step(...).
// A case with "injected_noise" replaces the SDE noise with its rows (call i -> row i).
outcome check_sequence(const context &ctx, const golden_case &gc) {
    outcome out;
    auto [atol, rtol] = gc.tolerance();
    auto s = build(gc, scheduler_config(ctx, gc.info(), text_of(gc, "scheduler")));
    auto *cosine = dynamic_cast<sch::cosine_dpm_multistep_scheduler *>(s.get());
    for (int64_t n : steps_of(gc)) {
        const std::string p = std::string("N") + std::to_string(n) + ".";
        s->set_timesteps(n);
        expect_equal_reference_kernels(p + "timesteps", s->timesteps(), gc.tensor(p + "timesteps"), out);
        at::Tensor outputs = gc.tensor(p + "model_outputs");
        at::Tensor x = gc.tensor(p + "sample_init");
        if (gc.has(p + "injected_noise")) {
            if (!cosine) throw failure(p + "injected_noise given for a scheduler without noise");
            at::Tensor noise = gc.tensor(p + "injected_noise");
            cosine->set_noise_source([noise](int64_t i, double, double, const at::Tensor &) { return noise[i]; });
        }
        for (int64_t i = 0; i < s->num_steps(); ++i) {
            const std::string idx = std::to_string(i);
            if (gc.has(p + "scaled_input_" + idx)) {
                if (!cosine) throw failure(p + "scaled_input given for a scheduler without scale_model_input");
                expect_close(p + "scaled_input_" + idx, cosine->scale_model_input(x, s->timestep(i)),
                             gc.tensor(p + "scaled_input_" + idx), atol, rtol, out);
            }
            x = s->step(outputs[i], s->timestep(i), x);
            expect_close(p + "sample_" + idx, x, gc.tensor(p + "sample_" + idx), atol, rtol, out);
        }
    }
    out.note = "atol " + format_number(atol) + " rtol " + format_number(rtol);
    return out;
}

}  // namespace

PARITY_CASE("wan21/scheduler_unipc_tables") {
    return check_tables(ctx, golden_case::load(ctx, "wan21_cases/scheduler_unipc_tables"));
}
PARITY_CASE("wan21/scheduler_flowmatch_tables") {
    return check_tables(ctx, golden_case::load(ctx, "wan21_cases/scheduler_flowmatch_tables"));
}
PARITY_CASE("wan21/scheduler_unipc_sequence") {
    return check_sequence(ctx, golden_case::load(ctx, "wan21_cases/scheduler_unipc_sequence"));
}
PARITY_CASE("wan21/scheduler_flowmatch_sequence") {
    return check_sequence(ctx, golden_case::load(ctx, "wan21_cases/scheduler_flowmatch_sequence"));
}
PARITY_CASE("stable_audio/sa_scheduler_tables") {
    return check_tables(ctx, golden_case::load(ctx, "stable_audio_cases/sa_scheduler_tables"));
}
PARITY_CASE("stable_audio/sa_scheduler_sequence") {
    return check_sequence(ctx, golden_case::load(ctx, "stable_audio_cases/sa_scheduler_sequence"));
}
