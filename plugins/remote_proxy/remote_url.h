// The remote server root from what a user typed: trimmed, trailing '/' and an OpenAI-style '/v1'
// removed, http or https required.
#pragma once

#include <string>

namespace omnihost::proxy {

// Throws proxy_error(INVALID_ARGUMENT) naming remote_url. `stripped_v1` tells whether /v1 was removed.
std::string normalize_remote_url(const std::string& url, bool* stripped_v1 = nullptr);

}  // namespace omnihost::proxy
