// The in-process plugins' internal error type: a status code for the ABI plus a message for
// last_error(). Thrown anywhere inside a plugin and converted to a status at the ABI edge
// (plugin_glue.h).
#pragma once

#include "omnihost_plugin.h"

#include <stdexcept>
#include <string>

namespace omnihost::inprocess {

struct plugin_error : std::runtime_error {
    plugin_error(omnihost_status s, const std::string &message) : std::runtime_error(message), status(s) {}
    omnihost_status status;
};

// A request/start field is wrong: INVALID_ARGUMENT, message starts with the field name.
inline plugin_error invalid_field(const std::string &field, const std::string &why) {
    return plugin_error(OMNIHOST_INVALID_ARGUMENT, field + ": " + why);
}

}  // namespace omnihost::inprocess
