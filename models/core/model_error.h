// The one error type of the model libraries. Kept in its own header (no libtorch) so parsers of
// untrusted model files can be used, tested and fuzzed without pulling in ATen.
#pragma once

#include <stdexcept>

namespace omnihost::models {

// Every loading error (missing file, corrupt header, unsupported dtype, missing/unexpected key,
// shape mismatch, implausible config value) is a model_error whose what() names the file and key.
struct model_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace omnihost::models
