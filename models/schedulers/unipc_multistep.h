// UniPCMultistepScheduler (diffusers) in the flow-matching mode the Wan repositories ship:
// use_flow_sigmas, prediction_type flow_prediction, predict_x0, B(h) = expm1 (bh2) or h (bh1),
// any solver_order (2 for Wan), lower_order_final, disable_corrector.
// The transformer receives int64 timesteps (truncated sigma*1000); the solver uses float32 sigmas.
#pragma once

#include "schedulers/scheduler.h"

#include <vector>

namespace omnihost::models::schedulers {

struct unipc_config {
    int64_t num_train_timesteps = 1000;
    int64_t solver_order = 2;
    double flow_shift = 1.0;
    bool bh2 = true;  // solver_type "bh2" (else "bh1")
    bool lower_order_final = true;
    bool final_sigma_zero = true;  // final_sigmas_type "zero" (else "sigma_min")
    std::vector<int64_t> disable_corrector;

    // Reads scheduler_config.json. Settings outside the flow mode (use_flow_sigmas false,
    // prediction_type other than flow_prediction, predict_x0 false, thresholding, karras /
    // exponential / beta sigmas, dynamic shifting, solver_p) are model_errors naming the key.
    static unipc_config from_json(const json_config &cfg);
};

class unipc_multistep_scheduler final : public scheduler {
public:
    explicit unipc_multistep_scheduler(unipc_config cfg = {});

    void set_timesteps(int64_t num_inference_steps) override;
    // Corrector (UniC) with the new output, then predictor (UniP). Output has sample's dtype.
    at::Tensor step(const at::Tensor &model_output, const at::Tensor &timestep, const at::Tensor &sample) override;
    std::string name() const override { return "UniPCMultistepScheduler"; }
    double shift() const override { return cfg_.flow_shift; }
    const unipc_config &config() const { return cfg_; }

private:
    unipc_config cfg_;
    std::vector<at::Tensor> model_outputs_;  // converted x0 predictions, oldest first (size solver_order)
    at::Tensor last_sample_;
    int64_t lower_order_nums_ = 0;
    int64_t this_order_ = 1;

    struct update_terms {
        at::Tensor m0, sigma_t, sigma_s0, alpha_t, h_phi_1, B_h;
        std::vector<at::Tensor> d1s, R, b;
    };
    update_terms terms(int64_t t_index, int64_t s0_index, int64_t order) const;
    at::Tensor predictor(const at::Tensor &sample, int64_t order) const;
    at::Tensor corrector(const at::Tensor &this_model_output, const at::Tensor &last_sample, int64_t order) const;
};

}  // namespace omnihost::models::schedulers
