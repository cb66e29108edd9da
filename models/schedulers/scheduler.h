// Diffusion schedulers with diffusers' numerics: the same timestep and sigma tables and the same
// solver updates in the same dtypes, so a step here matches diffusers' within float rounding.
//
// Use (as WanPipeline does):
//   auto s = make_scheduler(model_dir / "scheduler", /*flow_shift override*/ 5.0);
//   s->set_timesteps(steps);                       // also resets the solver state
//   for (int64_t i = 0; i < s->num_steps(); ++i) {
//       at::Tensor t = s->timestep(i);             // 0-d: int64 (UniPC) or float32 (FlowMatch)
//       noise = transformer(x, t.expand({B}), text);  // the transformer gets this exact dtype
//       x = s->step(noise, t, x);
//   }
// A scheduler is stateful (multistep history): one instance per generation, not thread-safe.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace omnihost::models { class json_config; }

namespace omnihost::models::schedulers {

class scheduler {
public:
    virtual ~scheduler() = default;

    // Computes timesteps and sigmas for `num_inference_steps` (>= 1, else model_error naming
    // num_inference_steps) and resets the step counter and solver history (begin index 0).
    virtual void set_timesteps(int64_t num_inference_steps) = 0;

    // [N]: int64 for UniPC (truncated sigma*1000), float32 for FlowMatch (sigma*1000).
    const at::Tensor &timesteps() const { return timesteps_; }
    // [N+1] float32, the last one the final sigma (0 unless configured otherwise).
    const at::Tensor &sigmas() const { return sigmas_; }
    int64_t num_steps() const { return timesteps_.defined() ? timesteps_.size(0) : 0; }
    // timesteps()[i] as a 0-d tensor (keeps the dtype the transformer must receive).
    at::Tensor timestep(int64_t i) const;
    // timesteps()[i] as a number, e.g. for the Wan2.2 expert switch `t >= boundary_ratio * 1000`.
    double timestep_value(int64_t i) const;
    // The index the next step() call will use.
    int64_t step_index() const { return step_index_; }
    int64_t num_train_timesteps() const { return num_train_timesteps_; }

    // One solver step from timesteps()[step_index()] to the next sigma. `timestep` must be that
    // timestep (checked: a mismatch is a model_error, it catches a pipeline that skipped a step).
    // Returns the previous (less noisy) sample; see each scheduler for the output dtype.
    virtual at::Tensor step(const at::Tensor &model_output, const at::Tensor &timestep, const at::Tensor &sample) = 0;

    virtual std::string name() const = 0;  // diffusers class name
    // The shift in effect (UniPC flow_shift / FlowMatch shift).
    virtual double shift() const = 0;

protected:
    at::Tensor timesteps_, sigmas_;
    int64_t step_index_ = 0;
    int64_t num_train_timesteps_ = 1000;
    // Checks set_timesteps ran, the step index is in range and `timestep` matches it.
    void check_step(const at::Tensor &timestep) const;
    static void check_steps_arg(int64_t n);
};

// Builds the scheduler named by "_class_name" in scheduler_config.json (a file, or a folder that
// holds one): UniPCMultistepScheduler (flow mode), FlowMatchEulerDiscreteScheduler or
// CosineDPMSolverMultistepScheduler (cosine_dpm_multistep.h).
// `shift_override` replaces flow_shift (UniPC) / shift (FlowMatch) from the file (an error for the
// cosine scheduler, which has no shift).
// Unsupported classes or options are model_errors naming the file and key.
std::unique_ptr<scheduler> make_scheduler(const std::filesystem::path &config_path,
                                          std::optional<double> shift_override = std::nullopt);
std::unique_ptr<scheduler> make_scheduler(const json_config &config,
                                          std::optional<double> shift_override = std::nullopt);

}  // namespace omnihost::models::schedulers
