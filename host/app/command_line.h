// command_line.h — parses omnihost's argv into HostOptions (defaults < --config file <
// OMNIHOST_TOKEN < command line), so the order of flags never changes the outcome.
#pragma once

#include <string>
#include <vector>

#include "config/host_options.h"

namespace omnihost {

struct CommandLine {
    HostOptions options;
    bool show_help = false;
};

// Accepts "--name value" and "--name=value". Throws OptionsError naming the bad flag.
CommandLine parse_command_line(const std::vector<std::string> &args);

std::string usage_text(const std::string &program);

} // namespace omnihost
