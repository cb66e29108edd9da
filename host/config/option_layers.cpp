#include "config/option_layers.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/json_limits.h"
#include "config/option_table.h"

namespace omnihost {
namespace {

constexpr std::size_t max_config_bytes = 4u << 20; // a config file is hand-written; 4 MiB is plenty

// The layer priorities: a lower number is consulted first, so it wins.
constexpr int command_line_priority = 0;
constexpr int environment_priority = 1;
constexpr int file_priority = 2;
constexpr int defaults_priority = 3;

// plugin_config is no option (no flag sets it); it lives in the file layer under this key.
const std::string plugin_config_key = "plugin-config";

// A JSON value of the config file as option text, or an error naming the key.
std::string option_text(const option_spec &spec, const std::string &key, const nlohmann::json &value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_number_unsigned() || value.is_number_integer()) return value.dump();
    if (value.is_number_float() && spec.kind == option_kind::number) return value.dump();
    if (value.is_boolean() && spec.kind == option_kind::flag) return value.get<bool>() ? "true" : "false";
    if (value.is_array() && spec.kind == option_kind::list) {
        std::string text;
        for (const auto &item : value) {
            if (!item.is_string()) throw options_error{"key '" + key + "' must be an array of strings"};
            if (!text.empty()) text += ',';
            text += item.get<std::string>();
        }
        return text;
    }
    if (spec.kind == option_kind::flag) throw options_error{"key '" + key + "' must be true or false"};
    throw options_error{"key '" + key + "' must be a string or an integer"};
}

} // namespace

option_layers::option_layers()
    : layers_(new Poco::Util::LayeredConfiguration), defaults_(new Poco::Util::MapConfiguration),
      file_(new Poco::Util::MapConfiguration), environment_(new Poco::Util::MapConfiguration),
      command_line_(new Poco::Util::MapConfiguration) {
    const host_options defaults;
    for (const auto &spec : option_table()) defaults_->setString(spec.name, spec.show(defaults));
    defaults_->setString(plugin_config_key, defaults.plugin_config_json);
    layers_->add(command_line_, "command-line", command_line_priority, false);
    layers_->add(environment_, "environment", environment_priority, false);
    layers_->add(file_, "config-file", file_priority, false);
    layers_->add(defaults_, "defaults", defaults_priority, false);
}

void option_layers::set_from_command_line(const std::string &name, const std::string &value) {
    const option_spec *spec = find_option(name);
    if (!spec) throw options_error{"unknown option '" + name + "'"};
    host_options scratch;
    spec->store(scratch, value);
    command_line_->setString(spec->name, value);
}

void option_layers::load_config_file(const std::string &path) {
    std::ifstream in(path);
    if (!in) throw options_error{"--config: cannot open '" + path + "'"};
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string where = "--config " + path + ": ";
    nlohmann::json doc;
    try {
        doc = parse_json_bounded(buffer.str(), {json_default_max_depth, max_config_bytes});
    } catch (const json_limit_error &e) {
        throw options_error{where + e.what()};
    } catch (const nlohmann::json::parse_error &e) {
        throw options_error{where + "invalid JSON: " + e.what()};
    }
    if (!doc.is_object()) throw options_error{where + "the top level must be an object"};
    for (const auto &[key, value] : doc.items()) {
        if (key == "plugin_config" || key == plugin_config_key) {
            if (!value.is_object())
                throw options_error{where + "key 'plugin_config' must be an object keyed by plugin id"};
            for (const auto &[plugin_id, settings] : value.items())
                if (!settings.is_object())
                    throw options_error{where + "key 'plugin_config." + plugin_id + "' must be an object"};
            file_->setString(plugin_config_key, value.dump());
            continue;
        }
        const option_spec *spec = find_option(key);
        if (!spec) throw options_error{where + "unknown key '" + key + "'"};
        try {
            const std::string text = option_text(*spec, key, value);
            host_options scratch;
            spec->store(scratch, text);
            file_->setString(spec->name, text);
        } catch (const options_error &e) {
            const bool names_key = e.message.rfind("key '", 0) == 0;
            throw options_error{where + (names_key ? "" : "key '" + key + "': ") + e.message};
        }
    }
}

void option_layers::load_environment() {
    for (const auto &spec : option_table()) {
        if (spec.environment.empty()) continue;
        const char *value = std::getenv(spec.environment.c_str());
        if (!value || !*value) continue;
        try {
            host_options scratch;
            spec.store(scratch, value);
        } catch (const options_error &e) {
            throw options_error{spec.environment + ": " + e.message};
        }
        environment_->setString(spec.name, value);
    }
}

host_options option_layers::resolve() const {
    host_options options;
    // getRawString: option text is taken literally (no ${...} expansion of a token or a path).
    for (const auto &spec : option_table()) spec.store(options, layers_->getRawString(spec.name));
    options.plugin_config_json = layers_->getRawString(plugin_config_key);
    // A full house of log viewers must leave connections for the API itself.
    if (options.max_ws_clients >= options.max_connections)
        throw options_error{"--max-ws-clients: " + std::to_string(options.max_ws_clients) +
                           " must be below --max-connections (" + std::to_string(options.max_connections) + ")"};
    return options;
}

} // namespace omnihost
