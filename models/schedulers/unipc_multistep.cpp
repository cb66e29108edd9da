// Op order follows diffusers' scheduling_unipc_multistep.py (flow branch): the sigma grid in
// float64 (numpy there), every solver coefficient as 0-d float32 tensor ops (torch there), so the
// same libtorch kernels produce the same bits.
#include "schedulers/unipc_multistep.h"

#include "schedulers/config_bounds.h"

#include "core/config.h"
#include "core/safetensors.h"  // model_error

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace omnihost::models::schedulers {
namespace {

// Flow mode: alpha = 1 - sigma, sigma_t = sigma, lambda = log(alpha) - log(sigma).
at::Tensor lambda_of(const at::Tensor &sigma) { return at::log(1 - sigma) - at::log(sigma); }

}  // namespace

unipc_config unipc_config::from_json(const json_config &cfg) {
    unipc_config c;
    const auto &o = cfg.origin();
    c.num_train_timesteps = cfg.get_int_in("num_train_timesteps", c.num_train_timesteps, 2, kMaxTrainTimesteps);
    c.solver_order = cfg.get_int_in("solver_order", c.solver_order, 1, kMaxSolverOrder);
    c.flow_shift = config_double_in(cfg, "flow_shift", c.flow_shift, 0, kMaxShift);
    const std::string solver = cfg.get_string("solver_type", "bh2");
    if (solver == "bh1") c.bh2 = false;
    else if (solver == "bh2" || solver == "midpoint" || solver == "heun" || solver == "logrho") c.bh2 = true;  // diffusers maps these to bh2
    else throw model_error(o + ": key 'solver_type' = '" + solver + "' is not supported (bh1, bh2)");
    c.lower_order_final = cfg.get_bool("lower_order_final", true);
    const std::string fin = cfg.get_string("final_sigmas_type", "zero");
    if (fin == "zero") c.final_sigma_zero = true;
    else if (fin == "sigma_min") c.final_sigma_zero = false;
    else throw model_error(o + ": key 'final_sigmas_type' = '" + fin + "' is not supported (zero, sigma_min)");
    c.disable_corrector = cfg.get_int_list("disable_corrector", {});

    if (!cfg.get_bool("use_flow_sigmas", false))
        throw model_error(o + ": key 'use_flow_sigmas' must be true (only the flow-matching mode of UniPC is ported)");
    const std::string pred = cfg.get_string("prediction_type", "epsilon");
    if (pred != "flow_prediction")
        throw model_error(o + ": key 'prediction_type' = '" + pred + "' is not supported (flow_prediction)");
    if (!cfg.get_bool("predict_x0", true)) throw model_error(o + ": key 'predict_x0' = false is not supported");
    for (const char *key : {"thresholding", "use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas",
                            "use_dynamic_shifting", "rescale_betas_zero_snr"}) {
        if (cfg.get_bool(key, false)) throw model_error(o + ": key '" + key + "' = true is not supported by this port");
    }
    if (cfg.has("solver_p")) throw model_error(o + ": key 'solver_p' is not supported");
    return c;
}

unipc_multistep_scheduler::unipc_multistep_scheduler(unipc_config cfg) : cfg_(std::move(cfg)) {
    num_train_timesteps_ = cfg_.num_train_timesteps;
    if (!(cfg_.flow_shift > 0)) throw model_error("flow_shift: must be > 0, got " + std::to_string(cfg_.flow_shift));
    if (cfg_.solver_order < 1) throw model_error("solver_order: must be >= 1");
}

void unipc_multistep_scheduler::set_timesteps(int64_t n) {
    check_steps_arg(n);
    const double T = static_cast<double>(cfg_.num_train_timesteps);
    const double shift = cfg_.flow_shift;
    // s = numpy.linspace(1, 1/T, n+1)[:-1] (start + i*step), shifted once, first sigma kept below 1.
    const double step = (1.0 / T - 1.0) / static_cast<double>(n);
    std::vector<double> s(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const double v = static_cast<double>(i) * step + 1.0;
        s[i] = shift * v / (1 + (shift - 1) * v);
    }
    if (std::fabs(s[0] - 1.0) < 1e-6) s[0] -= 1e-6;
    std::vector<int64_t> ts(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) ts[i] = static_cast<int64_t>(s[i] * T);  // truncation toward zero
    std::vector<double> sig = s;
    sig.push_back(cfg_.final_sigma_zero ? 0.0 : s.back());
    sigmas_ = at::tensor(sig, at::kDouble).to(at::kFloat);
    timesteps_ = at::tensor(ts, at::kLong);
    step_index_ = 0;
    model_outputs_.assign(static_cast<size_t>(cfg_.solver_order), at::Tensor());
    last_sample_ = at::Tensor();
    lower_order_nums_ = 0;
    this_order_ = 1;
}

// The terms the UniPC predictor and corrector share, for one update from sigma index s0 to t:
// the data-prediction differences D1 against older model outputs, the ratios r_k of their log-SNR
// offsets, and the right-hand sides (R, b) of the small linear system that gives the weights rho.
unipc_multistep_scheduler::update_terms unipc_multistep_scheduler::terms(int64_t t_index, int64_t s0_index,
                                                                         int64_t order) const {
    update_terms u;
    u.m0 = model_outputs_.back();
    u.sigma_t = sigmas_[t_index];
    u.sigma_s0 = sigmas_[s0_index];
    u.alpha_t = 1 - u.sigma_t;
    at::Tensor lambda_s0 = lambda_of(u.sigma_s0);
    at::Tensor h = lambda_of(u.sigma_t) - lambda_s0;

    std::vector<at::Tensor> rks;
    for (int64_t i = 1; i < order; ++i) {
        const at::Tensor &mi = model_outputs_[model_outputs_.size() - 1 - i];
        at::Tensor rk = (lambda_of(sigmas_[s0_index - i]) - lambda_s0) / h;
        rks.push_back(rk);
        u.d1s.push_back((mi - u.m0) / rk);
    }
    rks.push_back(at::ones({}, at::kFloat));
    at::Tensor rk_vec = at::stack(rks);

    at::Tensor hh = -h;
    u.h_phi_1 = at::expm1(hh);
    at::Tensor h_phi_k = u.h_phi_1 / hh - 1;
    u.B_h = cfg_.bh2 ? at::expm1(hh) : hh;
    int64_t factorial = 1;
    for (int64_t i = 1; i <= order; ++i) {
        u.R.push_back(at::pow(rk_vec, i - 1));
        u.b.push_back(h_phi_k * factorial / u.B_h);
        factorial *= i + 1;
        h_phi_k = h_phi_k / hh - 1.0 / static_cast<double>(factorial);
    }
    return u;
}

at::Tensor unipc_multistep_scheduler::predictor(const at::Tensor &x, int64_t order) const {
    const update_terms u = terms(step_index_ + 1, step_index_, order);
    at::Tensor x_t_ = u.sigma_t / u.sigma_s0 * x - u.alpha_t * u.h_phi_1 * u.m0;
    if (!u.d1s.empty()) {
        at::Tensor D1s = at::stack(u.d1s, 1);
        at::Tensor rhos_p;
        if (order == 2) {
            rhos_p = at::full({1}, 0.5, x.options());
        } else {
            at::Tensor Rm = at::stack(u.R), bv = at::stack(u.b);
            rhos_p = at::linalg_solve(Rm.slice(0, 0, -1).slice(1, 0, -1), bv.slice(0, 0, -1)).to(x.scalar_type());
        }
        at::Tensor pred_res = at::einsum("k,bkc...->bc...", {rhos_p, D1s});
        return (x_t_ - u.alpha_t * u.B_h * pred_res).to(x.scalar_type());
    }
    // diffusers subtracts alpha_t * B_h * 0 here; kept for identical signed zeros.
    return (x_t_ - u.alpha_t * u.B_h * 0).to(x.scalar_type());
}

at::Tensor unipc_multistep_scheduler::corrector(const at::Tensor &model_t, const at::Tensor &x,
                                                int64_t order) const {
    const update_terms u = terms(step_index_, step_index_ - 1, order);
    at::Tensor rhos_c = order == 1 ? at::full({1}, 0.5, x.options())
                                   : at::linalg_solve(at::stack(u.R), at::stack(u.b)).to(x.scalar_type());

    at::Tensor x_t_ = u.sigma_t / u.sigma_s0 * x - u.alpha_t * u.h_phi_1 * u.m0;
    at::Tensor D1_t = model_t - u.m0;
    at::Tensor inner = rhos_c[-1] * D1_t;
    if (!u.d1s.empty()) inner = at::einsum("k,bkc...->bc...", {rhos_c.slice(0, 0, -1), at::stack(u.d1s, 1)}) + inner;
    else inner = inner + 0;  // diffusers: corr_res = 0 (a Python int) + rhos_c[-1] * D1_t
    return (x_t_ - u.alpha_t * u.B_h * inner).to(x.scalar_type());
}

at::Tensor unipc_multistep_scheduler::step(const at::Tensor &model_output, const at::Tensor &timestep,
                                           const at::Tensor &sample) {
    check_step(timestep);
    if (sample.dim() < 2)
        throw model_error("UniPCMultistepScheduler: sample must be [B, C, ...], got " + std::to_string(sample.dim()) + " dims");
    const bool corrector_disabled = std::find(cfg_.disable_corrector.begin(), cfg_.disable_corrector.end(),
                                              step_index_ - 1) != cfg_.disable_corrector.end();
    const bool use_corrector = step_index_ > 0 && !corrector_disabled && last_sample_.defined();

    // convert_model_output (flow_prediction, predict_x0): x0 = sample - sigma * v.
    at::Tensor converted = sample - sigmas_[step_index_] * model_output;
    at::Tensor x = sample;
    if (use_corrector) x = corrector(converted, last_sample_, this_order_);

    std::rotate(model_outputs_.begin(), model_outputs_.begin() + 1, model_outputs_.end());
    model_outputs_.back() = converted;

    int64_t order = cfg_.lower_order_final ? std::min(cfg_.solver_order, num_steps() - step_index_) : cfg_.solver_order;
    this_order_ = std::min(order, lower_order_nums_ + 1);

    last_sample_ = x;
    at::Tensor prev = predictor(x, this_order_);
    if (lower_order_nums_ < cfg_.solver_order) ++lower_order_nums_;
    ++step_index_;
    return prev;
}

}  // namespace omnihost::models::schedulers
