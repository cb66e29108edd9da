// The one exception type the proxy code throws internally; the ABI edge turns it into a status code
// and the instance's last_error() text. Nothing of it crosses the C boundary.
#pragma once

#include <omnihost_plugin.h>

#include <stdexcept>
#include <string>

namespace omnihost::proxy {

class ProxyError : public std::runtime_error {
public:
    ProxyError(omnihost_status status, const std::string& message)
        : std::runtime_error(message), status_(status) {}
    omnihost_status status() const { return status_; }

private:
    omnihost_status status_;
};

// Convenience for "field X is wrong": the message always names the field.
inline ProxyError invalid_field(const std::string& field, const std::string& why) {
    return ProxyError(OMNIHOST_INVALID_ARGUMENT, field + ": " + why);
}

}  // namespace omnihost::proxy
