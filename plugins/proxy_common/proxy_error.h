// The one exception type the proxy code throws internally is the plugin SDK's status_error
// (omnihost_plugin.hpp); the ABI edge (proxy_instance.cpp) turns it into a status code and the
// reason in the failing call's error buffer. Nothing of it crosses the C boundary.
#pragma once

#include <omnihost_plugin.hpp>

namespace omnihost::proxy {

using proxy_error = sdk::status_error;
using sdk::invalid_field;  // "field X is wrong": the message always names the field

}  // namespace omnihost::proxy
