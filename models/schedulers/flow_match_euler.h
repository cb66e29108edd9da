// FlowMatchEulerDiscreteScheduler (diffusers): Euler steps on flow-matching sigmas, float32
// timesteps sigma*1000 handed to the transformer.
#pragma once

#include "schedulers/scheduler.h"

#include <optional>
#include <vector>

namespace omnihost::models::schedulers {

struct flow_match_config {
    int64_t num_train_timesteps = 1000;
    double shift = 1.0;
    std::optional<double> shift_terminal;  // stretch so the last sigma equals this
    bool invert_sigmas = false;

    // Reads scheduler_config.json fields (unknown keys ignored). Options this port does not
    // implement (dynamic shifting, karras/exponential/beta sigmas, stochastic sampling) are
    // model_errors naming the key.
    static flow_match_config from_json(const json_config &cfg);
};

class flow_match_euler_scheduler final : public scheduler {
public:
    explicit flow_match_euler_scheduler(flow_match_config cfg = {});

    void set_timesteps(int64_t num_inference_steps) override;
    // prev = float32(sample) + (sigma_next - sigma) * model_output, cast to model_output's dtype
    // (diffusers casts back to the transformer dtype: bf16 latents with a bf16 transformer).
    at::Tensor step(const at::Tensor &model_output, const at::Tensor &timestep, const at::Tensor &sample) override;
    std::string name() const override { return "FlowMatchEulerDiscreteScheduler"; }
    double shift() const override { return cfg_.shift; }
    const flow_match_config &config() const { return cfg_; }

private:
    flow_match_config cfg_;
    double sigma_max_ = 1.0, sigma_min_ = 0.0;  // from the shifted training schedule (float32 values)
};

}  // namespace omnihost::models::schedulers
