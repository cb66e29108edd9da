#include "app/command_line.h"

#include <sstream>

#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionException.h>
#include <Poco/Util/OptionProcessor.h>

#include "config/option_table.h"

namespace omnihost {
namespace {

const char *const config_option = "config";
const char *const help_option = "help";

std::string help_line(const option_spec &spec, const host_options &defaults) {
    std::string line = spec.help;
    const std::string shown = spec.show(defaults);
    if (!shown.empty() && spec.kind != option_kind::flag) line += " (default " + shown + ")";
    if (!spec.environment.empty()) line += " (env " + spec.environment + ")";
    return line;
}

// The name before the first space of Poco's "port requires N".
std::string first_word(const std::string &text) { return text.substr(0, text.find(' ')); }

} // namespace

void command_line::define_options(Poco::Util::OptionSet &set) {
    using Poco::Util::Option;
    const host_options defaults;
    // Every option may be repeated: the last one given wins, as a later layer does.
    for (const auto &spec : option_table()) {
        auto add = [&](const std::string &name, const std::string &help) {
            Option option(name, "", help);
            if (spec.kind != option_kind::flag) option.argument(spec.argument);
            set.addOption(option.repeatable(true));
        };
        add(spec.name, help_line(spec, defaults));
        for (const auto &alias : spec.aliases) add(alias, "old name of --" + spec.name);
    }
    set.addOption(Option(config_option, "", "JSON object with any of these options (keys with - or _)")
                      .argument("FILE")
                      .repeatable(true));
    set.addOption(Option(help_option, "h", "this text").repeatable(true));
}

void command_line::handle_option(const std::string &name, const std::string &value) {
    if (name == help_option) help_ = true;
    else if (name == config_option) config_path_ = value;
    else layers_.set_from_command_line(name, value);
}

host_options command_line::resolve() {
    if (!config_path_.empty()) layers_.load_config_file(config_path_);
    layers_.load_environment();
    return layers_.resolve();
}

std::string describe_option_error(const Poco::Exception &error) {
    const std::string &what = error.message();
    if (dynamic_cast<const Poco::Util::UnknownOptionException *>(&error))
        return "unknown option '" + what + "'";
    if (dynamic_cast<const Poco::Util::MissingArgumentException *>(&error))
        return "--" + first_word(what) + ": needs a value";
    if (dynamic_cast<const Poco::Util::AmbiguousOptionException *>(&error))
        return "--" + what + ": ambiguous, the start of several options";
    if (dynamic_cast<const Poco::Util::UnexpectedArgumentException *>(&error))
        return "--" + what + ": this option takes no value";
    return error.displayText();
}

std::string unexpected_argument(const std::string &argument) {
    return "unexpected argument '" + argument + "' (options start with --; see --help)";
}

parsed_command_line parse_command_line(const std::vector<std::string> &args) {
    Poco::Util::OptionSet set;
    command_line::define_options(set);
    Poco::Util::OptionProcessor processor(set);
    processor.setUnixStyle(true);
    command_line line;
    try {
        for (const auto &arg : args) {
            std::string name;
            std::string value;
            if (!processor.process(arg, name, value)) throw options_error{unexpected_argument(arg)};
            if (!name.empty()) line.handle_option(name, value); // empty: the value comes next
        }
        processor.checkRequired(); // throws for a last option still waiting for its value
    } catch (const Poco::Util::OptionException &e) {
        throw options_error{describe_option_error(e)};
    }
    parsed_command_line parsed;
    parsed.show_help = line.help_requested();
    parsed.options = line.resolve();
    return parsed;
}

std::string usage_text(const std::string &program) {
    Poco::Util::OptionSet set;
    command_line::define_options(set);
    Poco::Util::HelpFormatter formatter(set);
    formatter.setUnixStyle(true);
    formatter.setCommand(program);
    formatter.setUsage("[options]");
    formatter.setHeader("omnihost: a native playground/server for multimodal generation models.");
    formatter.setFooter(
        "The config file may also hold \"plugin_config\": {\"<plugin id>\": {...}}, operator settings merged "
        "into that plugin's create() config (e.g. {\"subprocess_proxy\": {\"vllm_binary\": "
        "\"/opt/vllm/bin/vllm\"}}). Precedence: defaults < --config file < environment (OMNIHOST_TOKEN) < "
        "command-line flags. On start-up it prints one line \"omnihost listening on http://HOST:PORT\". "
        "Bound to an address other machines can reach (e.g. --host 0.0.0.0) without a token, it generates "
        "one and prints the URLs that carry it (http://HOST:PORT/?token=...) before that line.");
    formatter.setWidth(100);
    std::ostringstream out;
    formatter.format(out);
    return out.str();
}

} // namespace omnihost
