// Op order follows diffusers' scheduling_cosine_dpmsolver_multistep.py: sigmas from a float32
// torch.linspace, every coefficient as 0-d float32 tensor ops (alpha_t is the int64 tensor(1)
// there), so the same libtorch kernels give the same bits.
#include "schedulers/cosine_dpm_multistep.h"
#include "schedulers/config_bounds.h"

#include "core/config.h"
#include "core/safetensors.h"  // model_error
#include "schedulers/torchsde_brownian.h"

#include <ATen/ATen.h>

#include <cmath>

namespace omnihost::models::schedulers {
namespace {

// lambda(sigma) = log(alpha_t) - log(sigma_t) with alpha_t = tensor(1) (int64) as diffusers has it.
at::Tensor lambda_of(const at::Tensor &sigma) { return at::log(at::scalar_tensor(1, at::kLong)) - at::log(sigma); }

}  // namespace

cosine_dpm_config cosine_dpm_config::from_json(const json_config &cfg) {
    cosine_dpm_config c;
    const auto &o = cfg.origin();
    c.sigma_min = cfg.get_double("sigma_min", c.sigma_min);
    c.sigma_max = config_double_in(cfg, "sigma_max", c.sigma_max, 0, kMaxSigma);
    c.sigma_data = config_double_in(cfg, "sigma_data", c.sigma_data, 0, kMaxSigma);
    const std::string schedule = cfg.get_string("sigma_schedule", "exponential");
    if (schedule == "karras") c.karras = true;
    else if (schedule != "exponential")
        throw model_error(o + ": key 'sigma_schedule' = '" + schedule + "' is not supported (exponential, karras)");
    c.num_train_timesteps = cfg.get_int_in("num_train_timesteps", c.num_train_timesteps, 2, kMaxTrainTimesteps);
    c.solver_order = cfg.get_int("solver_order", c.solver_order);
    if (c.solver_order < 1 || c.solver_order > 2)
        throw model_error(o + ": key 'solver_order' must be 1 or 2 (diffusers has no third-order update here)");
    const std::string pred = cfg.get_string("prediction_type", "v_prediction");
    if (pred == "epsilon") c.v_prediction = false;
    else if (pred != "v_prediction")
        throw model_error(o + ": key 'prediction_type' = '" + pred + "' is not supported (v_prediction, epsilon)");
    c.rho = config_double_in(cfg, "rho", c.rho, 0, kMaxShift);
    const std::string solver = cfg.get_string("solver_type", "midpoint");
    if (solver == "heun") c.heun = true;
    else if (solver != "midpoint" && solver != "logrho" && solver != "bh1" && solver != "bh2")
        throw model_error(o + ": key 'solver_type' = '" + solver + "' is not supported (midpoint, heun)");
    c.lower_order_final = cfg.get_bool("lower_order_final", c.lower_order_final);
    c.euler_at_final = cfg.get_bool("euler_at_final", c.euler_at_final);
    const std::string fin = cfg.get_string("final_sigmas_type", "zero");
    if (fin == "sigma_min") c.final_sigma_zero = false;
    else if (fin != "zero")
        throw model_error(o + ": key 'final_sigmas_type' = '" + fin + "' is not supported (zero, sigma_min)");
    if (!(c.sigma_min > 0) || !(c.sigma_max > c.sigma_min))
        throw model_error(o + ": keys 'sigma_min'/'sigma_max' must satisfy 0 < sigma_min < sigma_max");
    return c;
}

cosine_dpm_multistep_scheduler::cosine_dpm_multistep_scheduler(cosine_dpm_config cfg) : cfg_(cfg) {
    num_train_timesteps_ = cfg_.num_train_timesteps;
    if (cfg_.solver_order < 1 || cfg_.solver_order > 2) throw model_error("solver_order: must be 1 or 2");
}

cosine_dpm_multistep_scheduler::~cosine_dpm_multistep_scheduler() = default;

double cosine_dpm_multistep_scheduler::init_noise_sigma() const {
    return std::pow(cfg_.sigma_max * cfg_.sigma_max + 1, 0.5);
}

void cosine_dpm_multistep_scheduler::set_noise_seed(uint64_t seed) {
    noise_seed_ = seed;
    sampler_.reset();
}

void cosine_dpm_multistep_scheduler::set_noise_source(noise_source source) { source_ = std::move(source); }

at::Tensor cosine_dpm_multistep_scheduler::compute_sigmas(int64_t n) const {
    if (cfg_.karras) {
        const at::Tensor ramp = at::linspace(0, 1, n, at::kFloat);
        const double min_inv_rho = std::pow(cfg_.sigma_min, 1 / cfg_.rho);
        const double max_inv_rho = std::pow(cfg_.sigma_max, 1 / cfg_.rho);
        return at::pow(ramp * (min_inv_rho - max_inv_rho) + max_inv_rho, cfg_.rho);
    }
    return at::linspace(std::log(cfg_.sigma_min), std::log(cfg_.sigma_max), n, at::kFloat).exp().flip(0);
}

void cosine_dpm_multistep_scheduler::set_timesteps(int64_t n) {
    check_steps_arg(n);
    at::Tensor sigmas = compute_sigmas(n).to(at::kFloat);
    timesteps_ = sigmas.atan() / M_PI * 2;
    const float last = cfg_.final_sigma_zero ? 0.0f : static_cast<float>(cfg_.sigma_min);
    sigmas_ = at::cat({sigmas, at::full({1}, last, at::kFloat)});
    model_outputs_.assign(static_cast<size_t>(cfg_.solver_order), at::Tensor());
    lower_order_nums_ = 0;
    step_index_ = 0;
    sampler_.reset();
}

at::Tensor cosine_dpm_multistep_scheduler::scale_model_input(const at::Tensor &sample, const at::Tensor &timestep) const {
    check_step(timestep);
    const at::Tensor sigma = sigmas_[step_index_];
    const double sd2 = cfg_.sigma_data * cfg_.sigma_data;
    const at::Tensor c_in = at::reciprocal(at::pow(at::pow(sigma, 2) + sd2, 0.5)) * 1;
    return sample * c_in;
}

at::Tensor cosine_dpm_multistep_scheduler::noise_for_step(const at::Tensor &like) {
    const double sigma = sigmas_[step_index_].item<double>();
    const double sigma_next = sigmas_[step_index_ + 1].item<double>();
    at::Tensor noise;
    if (source_) {
        noise = source_(step_index_, sigma, sigma_next, like);
        if (!noise.defined() || noise.sizes() != like.sizes())
            throw model_error(name() + ": the noise source returned a tensor of the wrong shape at step " +
                              std::to_string(step_index_));
    } else {
        if (!sampler_) {
            std::vector<int64_t> shape(like.sizes().begin(), like.sizes().end());
            sampler_ = std::make_unique<torchsde_noise_sampler>(cfg_.sigma_min, cfg_.sigma_max, shape,
                                                                like.scalar_type(), noise_seed_);
        }
        noise = (*sampler_)(sigmas_[step_index_], sigmas_[step_index_ + 1]);
    }
    return noise.to(like.device(), like.scalar_type());
}

at::Tensor cosine_dpm_multistep_scheduler::first_order(const at::Tensor &x0, const at::Tensor &sample,
                                                       const at::Tensor &noise) const {
    const at::Tensor sigma_t = sigmas_[step_index_ + 1], sigma_s = sigmas_[step_index_];
    const at::Tensor alpha_t = at::scalar_tensor(1, at::kLong);
    const at::Tensor h = lambda_of(sigma_t) - lambda_of(sigma_s);
    const at::Tensor a = sigma_t / sigma_s * at::exp(-h);
    const at::Tensor b = alpha_t * at::rsub(at::exp(h * -2.0), 1);
    const at::Tensor c = sigma_t * at::sqrt(at::rsub(at::exp(h * -2), 1.0));
    return a * sample + b * x0 + c * noise;
}

at::Tensor cosine_dpm_multistep_scheduler::second_order(const at::Tensor &sample, const at::Tensor &noise) const {
    const at::Tensor sigma_t = sigmas_[step_index_ + 1], sigma_s0 = sigmas_[step_index_],
                     sigma_s1 = sigmas_[step_index_ - 1];
    const at::Tensor alpha_t = at::scalar_tensor(1, at::kLong);
    const at::Tensor lambda_t = lambda_of(sigma_t), lambda_s0 = lambda_of(sigma_s0), lambda_s1 = lambda_of(sigma_s1);
    const at::Tensor &m0 = model_outputs_[model_outputs_.size() - 1];
    const at::Tensor &m1 = model_outputs_[model_outputs_.size() - 2];
    const at::Tensor h = lambda_t - lambda_s0, h_0 = lambda_s0 - lambda_s1;
    const at::Tensor r0 = h_0 / h;
    const at::Tensor &d0 = m0;
    const at::Tensor d1 = (at::reciprocal(r0) * 1.0) * (m0 - m1);
    const at::Tensor a = sigma_t / sigma_s0 * at::exp(-h);
    const at::Tensor b = alpha_t * at::rsub(at::exp(h * -2.0), 1);
    const at::Tensor c = sigma_t * at::sqrt(at::rsub(at::exp(h * -2), 1.0));
    at::Tensor d1_coef;
    if (cfg_.heun) d1_coef = alpha_t * (at::rsub(at::exp(h * -2.0), 1.0) / (h * -2.0) + 1.0);
    else d1_coef = b * 0.5;
    return a * sample + b * d0 + d1_coef * d1 + c * noise;
}

at::Tensor cosine_dpm_multistep_scheduler::step(const at::Tensor &model_output, const at::Tensor &timestep,
                                                const at::Tensor &sample) {
    check_step(timestep);
    const int64_t i = step_index_, n = num_steps();
    const bool lower_order_final =
        i == n - 1 && (cfg_.euler_at_final || (cfg_.lower_order_final && n < 15) || cfg_.final_sigma_zero);

    // convert_model_output: EDM preconditioning of the output at sigma_i.
    const at::Tensor sigma = sigmas_[i];
    const double sd = cfg_.sigma_data, sd2 = sd * sd;
    const at::Tensor denom = at::pow(sigma, 2) + sd2;
    const at::Tensor c_skip = at::reciprocal(denom) * sd2;
    const at::Tensor c_out = (cfg_.v_prediction ? -sigma : sigma) * sd / at::pow(denom, 0.5);
    const at::Tensor x0 = c_skip * sample + c_out * model_output;

    for (size_t k = 0; k + 1 < model_outputs_.size(); ++k) model_outputs_[k] = model_outputs_[k + 1];
    model_outputs_.back() = x0;

    const at::Tensor noise = noise_for_step(x0);
    at::Tensor prev;
    if (cfg_.solver_order == 1 || lower_order_nums_ < 1 || lower_order_final) prev = first_order(x0, sample, noise);
    else prev = second_order(sample, noise);
    if (lower_order_nums_ < cfg_.solver_order) ++lower_order_nums_;
    ++step_index_;
    return prev.to(model_output.scalar_type());
}

}  // namespace omnihost::models::schedulers
