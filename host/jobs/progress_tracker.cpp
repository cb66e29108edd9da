#include "jobs/progress_tracker.h"

namespace omnihost::jobs {

void progress_tracker::reset() {
    progress_ = job_progress_info{};
    phase_start_ = {};
    phase_step0_ = 0;
}

void progress_tracker::update(int32_t step, int32_t total, const std::string &phase, const std::string &message,
                             std::chrono::steady_clock::time_point now) {
    if (phase != progress_.phase || phase_start_ == std::chrono::steady_clock::time_point{} || step < progress_.step) {
        // A new phase (load, denoise, decode) runs at its own pace: start measuring again.
        phase_start_ = now;
        phase_step0_ = step;
    }
    progress_.step = step;
    progress_.total = total;
    progress_.phase = phase;
    progress_.message = message;
    progress_.eta_s = -1;
    const int32_t done = step - phase_step0_;
    if (total > 0 && done > 0) {
        const double per_step = std::chrono::duration<double>(now - phase_start_).count() / done;
        progress_.eta_s = step >= total ? 0.0 : per_step * (total - step);
    }
}

} // namespace omnihost::jobs
