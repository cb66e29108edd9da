// command_line.h — omnihost's command line through Poco::Util: every entry of option_table() (plus
// --config and --help) as a Poco::Util::Option in the application's OptionSet (defineOptions), each
// option Poco hands over (handleOption) into the command-line layer of option_layers, and --help
// written by Poco's HelpFormatter from the same OptionSet. To add an option see config/host_options.h.
#pragma once

#include <string>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Util/OptionSet.h>

#include "config/host_options.h"
#include "config/option_layers.h"

namespace omnihost {

class command_line {
public:
    // Adds every option to `set` (Application::defineOptions calls this).
    static void define_options(Poco::Util::OptionSet &set);

    // One option as Poco's OptionProcessor recognised it ("port", "9000"). Throws options_error
    // naming the flag for a bad value.
    void handle_option(const std::string &name, const std::string &value);

    bool help_requested() const { return help_; }

    // The --config file and the environment into their layers, then the options. Throws options_error.
    host_options resolve();

private:
    option_layers layers_;
    std::string config_path_; // the last --config given
    bool help_ = false;
};

// Poco's option exceptions (unknown, ambiguous, missing value...) as one line naming the flag.
std::string describe_option_error(const Poco::Exception &error);

// The message for an argument that is no option.
std::string unexpected_argument(const std::string &argument);

struct parsed_command_line {
    host_options options;
    bool show_help = false;
};

// `args` (without the program name) through the same OptionSet and Poco's OptionProcessor, for
// callers without an Application (tests). Accepts "--name value" and "--name=value"; throws
// options_error naming the bad flag.
parsed_command_line parse_command_line(const std::vector<std::string> &args);

// The --help text (Poco's HelpFormatter over define_options()).
std::string usage_text(const std::string &program);

} // namespace omnihost
