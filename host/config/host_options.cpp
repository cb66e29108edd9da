#include "config/host_options.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace omnihost {
namespace {

std::string normalize_name(std::string name) {
    std::replace(name.begin(), name.end(), '_', '-');
    return name;
}

uint64_t parse_unsigned(const std::string &name, const std::string &value, uint64_t min,
                        uint64_t max) {
    uint64_t out = 0;
    const char *first = value.data();
    const char *last = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(first, last, out);
    if (value.empty() || ec != std::errc() || ptr != last)
        throw OptionsError{"--" + name + ": '" + value + "' is not a non-negative integer"};
    if (out < min || out > max)
        throw OptionsError{"--" + name + ": " + value + " is outside " + std::to_string(min) +
                           ".." + std::to_string(max)};
    return out;
}

} // namespace

const std::vector<std::string> &option_names() {
    static const std::vector<std::string> names = {
        "host",      "port",      "plugin-dir", "recipe-dir",     "web-dir",         "data-dir",
        "log-level", "token",     "max-body-bytes", "default-recipe", "max-http-threads",
        "cancel-deadline-s", "stop-deadline-s"};
    return names;
}

void apply_option(HostOptions &options, const std::string &raw_name, const std::string &value) {
    const std::string name = normalize_name(raw_name);
    if (name == "host") {
        if (value.empty()) throw OptionsError{"--host: must not be empty"};
        options.host = value;
    } else if (name == "port") {
        options.port = static_cast<uint16_t>(parse_unsigned(name, value, 0, 65535));
    } else if (name == "plugin-dir") {
        options.plugin_dir = value;
    } else if (name == "recipe-dir") {
        options.recipe_dir = value;
    } else if (name == "web-dir") {
        options.web_dir = value;
    } else if (name == "data-dir") {
        options.data_dir = value;
    } else if (name == "log-level") {
        options.log_level = value;
    } else if (name == "token") {
        options.token = value;
    } else if (name == "max-body-bytes") {
        options.max_body_bytes = parse_unsigned(name, value, 1024, 1ull << 34);
    } else if (name == "default-recipe") {
        options.default_recipe = value;
    } else if (name == "cancel-deadline-s") {
        options.cancel_deadline_s = static_cast<uint32_t>(parse_unsigned(name, value, 0, 86400));
    } else if (name == "stop-deadline-s") {
        options.stop_deadline_s = static_cast<uint32_t>(parse_unsigned(name, value, 0, 86400));
    } else if (name == "max-http-threads") {
        options.max_http_threads = static_cast<int>(parse_unsigned(name, value, 4, 1024));
    } else {
        throw OptionsError{"unknown option '" + raw_name + "'"};
    }
}

void apply_config_file(HostOptions &options, const std::string &path) {
    std::ifstream in(path);
    if (!in) throw OptionsError{"--config: cannot open '" + path + "'"};
    std::stringstream buffer;
    buffer << in.rdbuf();
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(buffer.str());
    } catch (const nlohmann::json::parse_error &e) {
        throw OptionsError{"--config " + path + ": invalid JSON: " + e.what()};
    }
    if (!doc.is_object()) throw OptionsError{"--config " + path + ": the top level must be an object"};
    for (const auto &[key, value] : doc.items()) {
        const std::string name = normalize_name(key);
        if (name == "plugin-config") {
            if (!value.is_object())
                throw OptionsError{"--config " + path + ": key 'plugin_config' must be an object keyed by plugin id"};
            for (const auto &[plugin_id, settings] : value.items())
                if (!settings.is_object())
                    throw OptionsError{"--config " + path + ": key 'plugin_config." + plugin_id + "' must be an object"};
            options.plugin_config_json = value.dump();
            continue;
        }
        const auto &names = option_names();
        if (std::find(names.begin(), names.end(), name) == names.end())
            throw OptionsError{"--config " + path + ": unknown key '" + key + "'"};
        std::string text;
        if (value.is_string()) {
            text = value.get<std::string>();
        } else if (value.is_number_unsigned() || value.is_number_integer()) {
            text = value.dump();
        } else {
            throw OptionsError{"--config " + path + ": key '" + key +
                               "' must be a string or an integer"};
        }
        try {
            apply_option(options, name, text);
        } catch (const OptionsError &e) {
            throw OptionsError{"--config " + path + ": key '" + key + "': " + e.message};
        }
    }
}

void apply_environment(HostOptions &options) {
    if (const char *token = std::getenv("OMNIHOST_TOKEN"); token && *token) options.token = token;
}

void validate_options(const HostOptions &options) {
    static const std::vector<std::string> levels = {"trace", "debug", "info", "warn", "error", "off"};
    if (std::find(levels.begin(), levels.end(), options.log_level) == levels.end())
        throw OptionsError{"--log-level: '" + options.log_level +
                           "' is not one of trace, debug, info, warn, error, off"};
    if (options.token.find_first_of(" \t\r\n") != std::string::npos)
        throw OptionsError{"--token: must not contain whitespace"};
}

} // namespace omnihost
