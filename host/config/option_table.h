// option_table.h — the one list of host options: name, --help text, how the text of a value is
// checked and stored into host_options, and how a value is shown (the defaults layer and --help).
// The command line (Poco::Util::OptionSet), the config file and the environment all read it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config/host_options.h"

namespace omnihost {

// What a config-file value may be besides a string (strings are accepted for every kind). A flag
// takes no value on the command line (--no-download); in the file it is true/false.
enum class option_kind { text, integer, number, list, flag };

struct option_spec {
    std::string name;     // long option and config key, e.g. "plugin-dir" (the file may write plugin_dir)
    std::string argument; // placeholder in --help, e.g. "DIR"
    std::string help;     // --help text; "(default X)" is appended from `show`
    option_kind kind = option_kind::text;
    // Parses `text`, checks it and stores it; throws options_error whose message starts "--<name>".
    std::function<void(host_options &, const std::string &text)> store;
    // The value as option text (the inverse of store), e.g. "8091", "a.lan,b.lan".
    std::function<std::string(const host_options &)> show;
    std::vector<std::string> aliases; // older names, accepted on the command line and in the file
    std::string environment;          // an environment variable that sets it (its own layer), or ""
};

const std::vector<option_spec> &option_table();

// The entry for `name` (a name or an alias, '-' or '_'), or nullptr.
const option_spec *find_option(const std::string &name);

} // namespace omnihost
