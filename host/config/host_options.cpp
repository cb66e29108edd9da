#include "config/host_options.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/json_limits.h"

namespace omnihost {
namespace {

constexpr std::size_t kMaxConfigBytes = 4u << 20; // a config file is hand-written; 4 MiB is plenty

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

double parse_positive_number(const std::string &name, const std::string &value, double max) {
    double out = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
    if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || !(out > 0))
        throw OptionsError{"--" + name + ": '" + value + "' is not a positive number"};
    if (out > max)
        throw OptionsError{"--" + name + ": " + value + " is over " + std::to_string(static_cast<long long>(max))};
    return out;
}

// "a,b , c" -> {"a","b","c"}; empty items dropped.
std::vector<std::string> split_list(const std::string &value) {
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(value);
    while (std::getline(in, item, ',')) {
        const auto first = item.find_first_not_of(" \t");
        if (first == std::string::npos) continue;
        const auto last = item.find_last_not_of(" \t");
        out.push_back(item.substr(first, last - first + 1));
    }
    return out;
}

} // namespace

const std::vector<std::string> &option_names() {
    static const std::vector<std::string> names = {
        "host",      "port",      "plugin-dir", "recipe-dir",     "web-dir",         "data-dir",
        "log-level", "token",     "max-body-bytes", "default-recipe", "max-http-threads",
        "cancel-deadline-s", "stop-deadline-s",
        "max-connections", "max-ws-clients", "allowed-hosts", "allowed-origins", "max-frames",
        "max-pixels", "max-steps", "max-duration", "max-samples"};
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
    } else if (name == "max-http-threads" || name == "max-connections") {
        options.max_connections = static_cast<int>(parse_unsigned(name, value, 2, 4096));
    } else if (name == "max-ws-clients") {
        options.max_ws_clients = static_cast<int>(parse_unsigned(name, value, 1, 4096));
    } else if (name == "allowed-hosts") {
        options.allowed_hosts = split_list(value);
        for (const auto &host : options.allowed_hosts)
            if (host.find_first_of("/@ \t") != std::string::npos)
                throw OptionsError{"--allowed-hosts: '" + host + "' is not a host name (no scheme, path or port)"};
    } else if (name == "allowed-origins") {
        options.allowed_origins = split_list(value);
        for (auto &origin : options.allowed_origins) {
            while (origin.size() > 1 && origin.back() == '/') origin.pop_back();
            if (origin != "*" && origin.rfind("http://", 0) != 0 && origin.rfind("https://", 0) != 0)
                throw OptionsError{"--allowed-origins: '" + origin + "' must look like http(s)://host[:port] or be *"};
        }
    } else if (name == "max-frames") {
        options.limits.max_frames = static_cast<int64_t>(parse_unsigned(name, value, 1, 1000000));
    } else if (name == "max-pixels") {
        options.limits.max_pixels = static_cast<int64_t>(parse_unsigned(name, value, 1, 1ull << 40));
    } else if (name == "max-steps") {
        options.limits.max_steps = static_cast<int64_t>(parse_unsigned(name, value, 1, 1000000));
    } else if (name == "max-duration") {
        options.limits.max_duration = parse_positive_number(name, value, 86400);
    } else if (name == "max-samples") {
        options.limits.max_samples = static_cast<int64_t>(parse_unsigned(name, value, 1, 1024));
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
        doc = parse_json_bounded(buffer.str(), {json_default_max_depth, kMaxConfigBytes});
    } catch (const json_limit_error &e) {
        throw OptionsError{"--config " + path + ": " + e.what()};
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
        } else if (value.is_number_float() && name == "max-duration") {
            text = value.dump();
        } else if (value.is_array() && (name == "allowed-hosts" || name == "allowed-origins")) {
            for (const auto &item : value) {
                if (!item.is_string())
                    throw OptionsError{"--config " + path + ": key '" + key + "' must be an array of strings"};
                text += (text.empty() ? "" : ",") + item.get<std::string>();
            }
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
    // A full house of log viewers must leave connections for the API itself.
    if (options.max_ws_clients >= options.max_connections)
        throw OptionsError{"--max-ws-clients: " + std::to_string(options.max_ws_clients) +
                           " must be below --max-connections (" + std::to_string(options.max_connections) + ")"};
}

} // namespace omnihost
