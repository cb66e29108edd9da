// progress_tracker.h — the running job's last progress and an ETA: the pace of the current phase
// (seconds per step since the phase began) times the steps left. Not thread-safe; the owner locks.
#pragma once

#include <chrono>
#include <string>

#include "jobs/job_types.h"

namespace omnihost::jobs {

class progress_tracker {
public:
    void reset();
    void update(int32_t step, int32_t total, const std::string &phase, const std::string &message,
                std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
    const job_progress_info &progress() const { return progress_; }

private:
    job_progress_info progress_;
    std::chrono::steady_clock::time_point phase_start_{};
    int32_t phase_step0_ = 0;
};

} // namespace omnihost::jobs
