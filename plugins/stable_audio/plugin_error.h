// The plugin's internal error type is the plugin SDK's (omnihost_plugin.hpp): a status code for the
// ABI plus a reason, converted at the ABI edge (plugin_entry.cpp, through plugin_glue.h).
#pragma once

#include "inprocess_error.h"

namespace omnihost::stable_audio {

using inprocess::invalid_field;
using inprocess::plugin_error;

}  // namespace omnihost::stable_audio
