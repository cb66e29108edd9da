// config_bounds.h — the ranges a checkpoint's scheduler_config.json must keep to. The file comes
// with the model and is untrusted: num_train_timesteps sizes a table built at load, solver_order
// the history of model outputs kept per step, and a shift or sigma of 1e300 turns every sigma into
// inf or NaN. Each bound is far above any published config; a value outside is a model_error
// naming the key, as for the other keys this port refuses.
#pragma once

#include "core/config.h"
#include "core/model_error.h"

#include <cstdint>
#include <sstream>
#include <string>

namespace omnihost::models::schedulers {

constexpr int64_t kMaxTrainTimesteps = 100000;  // diffusers' configs use 1000
constexpr int64_t kMaxSolverOrder = 8;          // published configs use 1-3
constexpr double kMaxShift = 1000;              // Wan uses 3-12
constexpr double kMaxSigma = 1e6;               // Stable Audio's sigma_max is 500

// A number read under `key` that must lie in (above, max].
inline double config_double_in(const json_config &cfg, const std::string &key, double fallback, double above,
                               double max) {
    const double v = cfg.get_double(key, fallback);
    if (!(v > above && v <= max)) {
        std::ostringstream out;
        out << cfg.origin() << ": key '" << key << "' is " << v << ", outside the supported range (" << above << ", "
            << max << "]";
        throw model_error(out.str());
    }
    return v;
}

}  // namespace omnihost::models::schedulers
