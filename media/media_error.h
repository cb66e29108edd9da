// The one exception type of omnihost_media: what() says what was wrong in words a user can act on.
#pragma once

#include <stdexcept>

namespace omnihost::media {

struct media_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace omnihost::media
