#include "schedulers/scheduler.h"

#include "core/config.h"
#include "core/safetensors.h"  // model_error
#include "schedulers/cosine_dpm_multistep.h"
#include "schedulers/flow_match_euler.h"
#include "schedulers/unipc_multistep.h"

#include <ATen/ATen.h>

namespace omnihost::models::schedulers {

at::Tensor scheduler::timestep(int64_t i) const {
    if (i < 0 || i >= num_steps())
        throw model_error(name() + ": timestep index " + std::to_string(i) + " out of range [0, " +
                          std::to_string(num_steps()) + ")");
    return timesteps_[i];
}

double scheduler::timestep_value(int64_t i) const { return timestep(i).item<double>(); }

void scheduler::check_steps_arg(int64_t n) {
    if (n <= 0) throw model_error("num_inference_steps: must be >= 1, got " + std::to_string(n));
}

void scheduler::check_step(const at::Tensor &timestep) const {
    if (!timesteps_.defined()) throw model_error(name() + ": step() before set_timesteps()");
    if (step_index_ >= num_steps())
        throw model_error(name() + ": step() called more often than the " + std::to_string(num_steps()) +
                          " steps set");
    if (timestep.defined()) {
        if (timestep.numel() != 1 || timestep.item<double>() != timesteps_[step_index_].item<double>())
            throw model_error(name() + ": step() got timestep " +
                              (timestep.numel() == 1 ? std::to_string(timestep.item<double>()) : std::string("<tensor>")) +
                              " but step " + std::to_string(step_index_) + " is at " +
                              std::to_string(timesteps_[step_index_].item<double>()));
    }
}

std::unique_ptr<scheduler> make_scheduler(const json_config &cfg, std::optional<double> shift_override) {
    const std::string cls = cfg.get_string("_class_name", "");
    if (cls == "UniPCMultistepScheduler") {
        auto c = unipc_config::from_json(cfg);
        if (shift_override) c.flow_shift = *shift_override;
        return std::make_unique<unipc_multistep_scheduler>(c);
    }
    if (cls == "FlowMatchEulerDiscreteScheduler") {
        auto c = flow_match_config::from_json(cfg);
        if (shift_override) c.shift = *shift_override;
        return std::make_unique<flow_match_euler_scheduler>(c);
    }
    if (cls == "CosineDPMSolverMultistepScheduler") {
        if (shift_override)
            throw model_error(cfg.origin() + ": a shift override does not apply to CosineDPMSolverMultistepScheduler");
        return std::make_unique<cosine_dpm_multistep_scheduler>(cosine_dpm_config::from_json(cfg));
    }
    throw model_error(cfg.origin() + ": key '_class_name' is '" + cls +
                      "'; supported: UniPCMultistepScheduler, FlowMatchEulerDiscreteScheduler, "
                      "CosineDPMSolverMultistepScheduler");
}

std::unique_ptr<scheduler> make_scheduler(const std::filesystem::path &path, std::optional<double> shift_override) {
    const auto file = std::filesystem::is_directory(path) ? path / "scheduler_config.json" : path;
    return make_scheduler(json_config::load(file), shift_override);
}

}  // namespace omnihost::models::schedulers
