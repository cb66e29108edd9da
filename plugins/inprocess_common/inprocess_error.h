// The in-process plugins' internal error type is the plugin SDK's (omnihost_plugin.hpp): a status
// code for the ABI plus the reason written into the failing call's error buffer.
#pragma once

#include "omnihost_plugin.hpp"

namespace omnihost::inprocess {

using plugin_error = sdk::status_error;
using sdk::invalid_field;

}  // namespace omnihost::inprocess
