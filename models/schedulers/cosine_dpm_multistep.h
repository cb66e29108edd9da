// CosineDPMSolverMultistepScheduler (diffusers), the Stable Audio Open sampler: EDM-preconditioned
// SDE-DPM-Solver++ (alpha_t = 1, sigma_t = sigma), orders 1 and 2 (midpoint or heun), exponential
// or karras sigmas, v_prediction or epsilon. The DiT receives float32 timesteps atan(sigma)*2/pi;
// the sampler's input is scaled by scale_model_input (1/sqrt(sigma^2 + sigma_data^2)) and the
// initial noise by init_noise_sigma() = sqrt(sigma_max^2 + 1).
//
// Every step adds noise from a noise source: by default torchsde's Brownian tree on
// [sigma_min, sigma_max] (torchsde_brownian.h) seeded with set_noise_seed() (diffusers seeds it with
// generator.initial_seed()), created at the first step with the x0 prediction's shape; parity tests
// install a source that returns recorded tensors.
#pragma once

#include "schedulers/scheduler.h"

#include <functional>
#include <memory>
#include <string>

namespace omnihost::models::schedulers {

class torchsde_noise_sampler;

struct cosine_dpm_config {
    double sigma_min = 0.3;
    double sigma_max = 500;
    double sigma_data = 1.0;
    bool karras = false;  // sigma_schedule "karras" (else "exponential")
    int64_t num_train_timesteps = 1000;
    int64_t solver_order = 2;  // 1 or 2
    bool v_prediction = true;  // prediction_type "v_prediction" (else "epsilon")
    double rho = 7.0;
    bool heun = false;  // solver_type "heun" (else "midpoint"; logrho/bh1/bh2 map to midpoint as in diffusers)
    bool lower_order_final = true;
    bool euler_at_final = false;
    bool final_sigma_zero = true;  // final_sigmas_type "zero" (else "sigma_min")

    // Reads scheduler_config.json fields (unknown keys ignored, missing ones take diffusers'
    // defaults). Unsupported values are model_errors naming the key.
    static cosine_dpm_config from_json(const json_config &cfg);
};

// (step index, sigma_i, sigma_{i+1}, like) -> noise with like's shape/dtype/device.
using noise_source = std::function<at::Tensor(int64_t step_index, double sigma, double sigma_next, const at::Tensor &like)>;

class cosine_dpm_multistep_scheduler final : public scheduler {
public:
    explicit cosine_dpm_multistep_scheduler(cosine_dpm_config cfg = {});
    ~cosine_dpm_multistep_scheduler() override;

    // Also drops the noise sampler (a new one is made at the next first step), as diffusers does.
    void set_timesteps(int64_t num_inference_steps) override;
    // sample * 1/sqrt(sigma_i^2 + sigma_data^2) for the current step (timestep checked like step()).
    at::Tensor scale_model_input(const at::Tensor &sample, const at::Tensor &timestep) const;
    // Output has model_output's dtype (float32 in the pipeline).
    at::Tensor step(const at::Tensor &model_output, const at::Tensor &timestep, const at::Tensor &sample) override;
    std::string name() const override { return "CosineDPMSolverMultistepScheduler"; }
    double shift() const override { return 0.0; }  // no shift in this scheduler

    // sqrt(sigma_max^2 + 1) as diffusers computes it (in double).
    double init_noise_sigma() const;
    // Seed of the default Brownian-tree noise (diffusers: generator.initial_seed()).
    void set_noise_seed(uint64_t seed);
    // Replaces the default noise (empty: back to the Brownian tree).
    void set_noise_source(noise_source source);

    const cosine_dpm_config &config() const { return cfg_; }

private:
    cosine_dpm_config cfg_;
    std::vector<at::Tensor> model_outputs_;  // x0 predictions, oldest first (size solver_order)
    int64_t lower_order_nums_ = 0;
    uint64_t noise_seed_ = 0;
    noise_source source_;
    std::unique_ptr<torchsde_noise_sampler> sampler_;

    at::Tensor compute_sigmas(int64_t n) const;
    at::Tensor noise_for_step(const at::Tensor &like);
    at::Tensor first_order(const at::Tensor &x0, const at::Tensor &sample, const at::Tensor &noise) const;
    at::Tensor second_order(const at::Tensor &sample, const at::Tensor &noise) const;
};

}  // namespace omnihost::models::schedulers
