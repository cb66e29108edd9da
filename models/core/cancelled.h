// The one cancel exception of the model libraries: a caller's is_cancelled() said stop, so a load,
// a denoising loop, an encode or a decode ended early on purpose. Not an error (no model_error):
// a plugin answers it with OMNIHOST_CANCELLED. Each library may name it for its callers
// (generation_cancelled, decode_cancelled), always as an alias of this one type, so one catch
// covers them all. No libtorch here.
#pragma once

#include <stdexcept>
#include <string>

namespace omnihost::models {

struct operation_cancelled : std::runtime_error {
    explicit operation_cancelled(const std::string &what = "cancelled") : std::runtime_error(what) {}
};

}  // namespace omnihost::models
