// The plugin's internal error type is the in-process plugins' shared one (a status code for the
// ABI plus a message for last_error()), converted to a status at the ABI edge (plugin_entry.cpp).
#pragma once

#include "inprocess_error.h"

namespace omnihost::video_diffusion {

using inprocess::invalid_field;
using inprocess::plugin_error;

}  // namespace omnihost::video_diffusion
