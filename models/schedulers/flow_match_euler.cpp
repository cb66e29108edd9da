// Op order follows diffusers' scheduling_flow_match_euler_discrete.py: the training schedule is
// built in torch float32, the inference grid in numpy float64 (replicated with doubles here), and
// the step in float32 tensor ops.
#include "schedulers/flow_match_euler.h"
#include "schedulers/config_bounds.h"

#include "core/config.h"
#include "core/safetensors.h"  // model_error

#include <ATen/ATen.h>

namespace omnihost::models::schedulers {

flow_match_config flow_match_config::from_json(const json_config &cfg) {
    flow_match_config c;
    c.num_train_timesteps = cfg.get_int_in("num_train_timesteps", c.num_train_timesteps, 2, kMaxTrainTimesteps);
    c.shift = config_double_in(cfg, "shift", c.shift, 0, kMaxShift);
    // shift_terminal is the last sigma: the stretch divides by 1 - shift_terminal.
    if (cfg.has("shift_terminal")) c.shift_terminal = config_double_in(cfg, "shift_terminal", 0.5, 0, 0.999999);
    c.invert_sigmas = cfg.get_bool("invert_sigmas", false);
    for (const char *key : {"use_dynamic_shifting", "use_karras_sigmas", "use_exponential_sigmas",
                            "use_beta_sigmas", "stochastic_sampling"}) {
        if (cfg.get_bool(key, false))
            throw model_error(cfg.origin() + ": key '" + key + "' = true is not supported by this port");
    }
    return c;
}

flow_match_euler_scheduler::flow_match_euler_scheduler(flow_match_config cfg) : cfg_(cfg) {
    num_train_timesteps_ = cfg_.num_train_timesteps;
    if (!(cfg_.shift > 0)) throw model_error("flow_shift: must be > 0, got " + std::to_string(cfg_.shift));
    // Training schedule: t = linspace(1, T, T) reversed (exact integers), sigma = t / T in float32,
    // shifted in float32; only its end points are used later.
    const int64_t T = cfg_.num_train_timesteps;
    at::Tensor t = at::arange(T, 0, -1, at::kDouble).to(at::kFloat);
    at::Tensor s = t / static_cast<double>(T);
    s = cfg_.shift * s / (1 + (cfg_.shift - 1) * s);
    sigma_max_ = s[0].item<double>();
    sigma_min_ = s[T - 1].item<double>();
}

void flow_match_euler_scheduler::set_timesteps(int64_t n) {
    check_steps_arg(n);
    const double T = static_cast<double>(cfg_.num_train_timesteps);
    // numpy.linspace(sigma_max*T, sigma_min*T, n): start + i*step, last point exactly `stop`.
    const double start = sigma_max_ * T, stop = sigma_min_ * T;
    std::vector<double> sig(static_cast<size_t>(n));
    const double step = n > 1 ? (stop - start) / static_cast<double>(n - 1) : 0.0;
    for (int64_t i = 0; i < n; ++i) sig[i] = (n > 1 && i == n - 1) ? stop : static_cast<double>(i) * step + start;
    for (auto &v : sig) {
        v = v / T;
        v = cfg_.shift * v / (1 + (cfg_.shift - 1) * v);
    }
    if (cfg_.shift_terminal) {
        // Stretch so that the final sigma equals shift_terminal.
        const double one_minus_last = 1 - sig.back();
        const double scale = one_minus_last / (1 - *cfg_.shift_terminal);
        for (auto &v : sig) v = 1 - (1 - v) / scale;
    }
    at::Tensor sigmas = at::tensor(sig, at::kDouble).to(at::kFloat);
    at::Tensor timesteps = sigmas * static_cast<int64_t>(cfg_.num_train_timesteps);
    if (cfg_.invert_sigmas) {
        sigmas = 1.0 - sigmas;
        timesteps = sigmas * static_cast<int64_t>(cfg_.num_train_timesteps);
        sigmas = at::cat({sigmas, at::ones({1}, at::kFloat)});
    } else {
        sigmas = at::cat({sigmas, at::zeros({1}, at::kFloat)});
    }
    timesteps_ = timesteps;
    sigmas_ = sigmas;
    step_index_ = 0;
}

at::Tensor flow_match_euler_scheduler::step(const at::Tensor &model_output, const at::Tensor &timestep,
                                            const at::Tensor &sample) {
    check_step(timestep);
    at::Tensor x = sample.to(at::kFloat);
    at::Tensor sigma = sigmas_[step_index_];
    at::Tensor sigma_next = sigmas_[step_index_ + 1];
    at::Tensor prev = x + (sigma_next - sigma) * model_output;
    ++step_index_;
    return prev.to(model_output.scalar_type());
}

}  // namespace omnihost::models::schedulers
