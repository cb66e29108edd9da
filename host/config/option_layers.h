// option_layers.h — the host's options as a Poco::Util::LayeredConfiguration of four layers, each a
// MapConfiguration of option text keyed by the option's name (option_table.h):
//   defaults (host_options' initialisers) < --config file < environment < command line.
// Every value is checked when it enters its layer, so an error names where it came from (the flag,
// the file and key, or the variable); resolve() then reads each option from the highest layer that
// has it, so the order of flags on the line never changes the outcome.
#pragma once

#include <string>

#include <Poco/AutoPtr.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <Poco/Util/MapConfiguration.h>

#include "config/host_options.h"

namespace omnihost {

class option_layers {
public:
    option_layers();

    // One option from the command line ("port", "9000"); the last one given wins. `name` may be an
    // alias. Throws options_error naming the flag.
    void set_from_command_line(const std::string &name, const std::string &value);

    // A JSON object whose keys are the option names ('-' or '_'), plus "plugin_config" (an object
    // of objects keyed by plugin id). Unknown keys and wrong types are errors naming file and key.
    void load_config_file(const std::string &path);

    // The variables named in the option table (OMNIHOST_TOKEN), when set and non-empty.
    void load_environment();

    // host_options from the highest layer holding each option, plus the checks spanning options.
    host_options resolve() const;

private:
    Poco::AutoPtr<Poco::Util::LayeredConfiguration> layers_;
    Poco::AutoPtr<Poco::Util::MapConfiguration> defaults_;
    Poco::AutoPtr<Poco::Util::MapConfiguration> file_;
    Poco::AutoPtr<Poco::Util::MapConfiguration> environment_;
    Poco::AutoPtr<Poco::Util::MapConfiguration> command_line_;
};

} // namespace omnihost
