// The one error type of the tokenizer library.
#pragma once

#include <stdexcept>

namespace omnihost::text {

// Every tokenizer failure (module missing, model file missing/corrupt, encode error) is a
// tokenizer_error whose what() names the path or the input involved.
struct tokenizer_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace omnihost::text
