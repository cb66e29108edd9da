#include "config/option_table.h"

#include "core/remote_endpoint.h"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace omnihost {
namespace {

[[noreturn]] void fail(const std::string &name, const std::string &what) {
    throw options_error{"--" + name + ": " + what};
}

uint64_t parse_unsigned(const std::string &name, const std::string &value, uint64_t min, uint64_t max) {
    uint64_t out = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
    if (value.empty() || ec != std::errc() || ptr != value.data() + value.size())
        fail(name, "'" + value + "' is not a non-negative integer");
    if (out < min || out > max)
        fail(name, value + " is outside " + std::to_string(min) + ".." + std::to_string(max));
    return out;
}

double parse_positive_number(const std::string &name, const std::string &value, double max) {
    double out = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
    if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || !(out > 0))
        fail(name, "'" + value + "' is not a positive number");
    if (out > max) fail(name, value + " is over " + std::to_string(static_cast<long long>(max)));
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

std::string join_list(const std::vector<std::string> &items) {
    std::string out;
    for (const auto &item : items) {
        if (!out.empty()) out += ',';
        out += item;
    }
    return out;
}

// A field of host_options or of its operator_limits, reached the same way from either.
template <class T> T &field_of(host_options &options, T host_options::*field) { return options.*field; }
template <class T> T &field_of(host_options &options, T operator_limits::*field) { return options.limits.*field; }
template <class T> const T &field_of(const host_options &options, T host_options::*field) { return options.*field; }
template <class T> const T &field_of(const host_options &options, T operator_limits::*field) { return options.limits.*field; }

using text_check = std::function<void(const std::string &name, const std::string &value)>;

template <class Field>
option_spec text_option(std::string name, std::string argument, std::string help, Field field,
                        text_check check = nullptr) {
    option_spec spec{std::move(name), std::move(argument), std::move(help), option_kind::text, nullptr, nullptr, {}, ""};
    spec.store = [name = spec.name, field, check](host_options &options, const std::string &value) {
        if (check) check(name, value);
        field_of(options, field) = value;
    };
    spec.show = [field](const host_options &options) { return field_of(options, field); };
    return spec;
}

template <class Field>
option_spec unsigned_option(std::string name, std::string argument, std::string help, Field field,
                            uint64_t min, uint64_t max) {
    option_spec spec{std::move(name), std::move(argument), std::move(help), option_kind::integer, nullptr, nullptr, {}, ""};
    spec.store = [name = spec.name, field, min, max](host_options &options, const std::string &value) {
        auto &target = field_of(options, field);
        target = static_cast<std::remove_reference_t<decltype(target)>>(parse_unsigned(name, value, min, max));
    };
    spec.show = [field](const host_options &options) { return std::to_string(field_of(options, field)); };
    return spec;
}

template <class Field>
option_spec positive_number_option(std::string name, std::string argument, std::string help, Field field,
                                   double max) {
    option_spec spec{std::move(name), std::move(argument), std::move(help), option_kind::number, nullptr, nullptr, {}, ""};
    spec.store = [name = spec.name, field, max](host_options &options, const std::string &value) {
        field_of(options, field) = parse_positive_number(name, value, max);
    };
    spec.show = [field](const host_options &options) {
        std::ostringstream out;
        out << field_of(options, field);
        return out.str();
    };
    return spec;
}

// A comma-separated list; `normalize` may rewrite each item and throws for a bad one.
template <class Field>
option_spec list_option(std::string name, std::string argument, std::string help, Field field,
                        std::function<void(const std::string &name, std::string &item)> normalize) {
    option_spec spec{std::move(name), std::move(argument), std::move(help), option_kind::list, nullptr, nullptr, {}, ""};
    spec.store = [name = spec.name, field, normalize](host_options &options, const std::string &value) {
        auto items = split_list(value);
        for (auto &item : items) normalize(name, item);
        field_of(options, field) = std::move(items);
    };
    spec.show = [field](const host_options &options) { return join_list(field_of(options, field)); };
    return spec;
}

// A switch: no value on the command line (--no-download); in the config file "true"/"false"
// (also 1/0, yes/no, on/off).
template <class Field>
option_spec flag_option(std::string name, std::string help, Field field) {
    option_spec spec{std::move(name), "", std::move(help), option_kind::flag, nullptr, nullptr, {}, ""};
    spec.store = [name = spec.name, field](host_options &options, const std::string &value) {
        if (value.empty() || value == "true" || value == "1" || value == "yes" || value == "on") field_of(options, field) = true;
        else if (value == "false" || value == "0" || value == "no" || value == "off") field_of(options, field) = false;
        else fail(name, "'" + value + "' is not true or false");
    };
    spec.show = [field](const host_options &options) { return std::string(field_of(options, field) ? "true" : "false"); };
    return spec;
}

option_spec with_aliases(option_spec spec, std::vector<std::string> aliases) {
    spec.aliases = std::move(aliases);
    return spec;
}

option_spec with_environment(option_spec spec, std::string variable) {
    spec.environment = std::move(variable);
    return spec;
}

void not_empty(const std::string &name, const std::string &value) {
    if (value.empty()) fail(name, "must not be empty");
}

void log_level_name(const std::string &name, const std::string &value) {
    static const std::vector<std::string> levels = {"trace", "debug", "info", "warn", "error", "off"};
    if (std::find(levels.begin(), levels.end(), value) == levels.end())
        fail(name, "'" + value + "' is not one of trace, debug, info, warn, error, off");
}

void no_whitespace(const std::string &name, const std::string &value) {
    if (value.find_first_of(" \t\r\n") != std::string::npos) fail(name, "must not contain whitespace");
}

void host_name(const std::string &name, std::string &host) {
    if (host.find_first_of("/@ \t") != std::string::npos)
        fail(name, "'" + host + "' is not a host name (no scheme, path or port)");
}

void origin(const std::string &name, std::string &origin) {
    while (origin.size() > 1 && origin.back() == '/') origin.pop_back();
    if (origin != "*" && origin.rfind("http://", 0) != 0 && origin.rfind("https://", 0) != 0)
        fail(name, "'" + origin + "' must look like http(s)://host[:port] or be *");
}

void remote_server(const std::string &name, std::string &item) {
    auto normalized = normalize_remote_allow_item(item);
    if (!normalized) fail(name, "'" + item + "' must look like host:port or [ipv6]:port");
    item = *normalized;
}

std::string normalize_name(std::string name) {
    std::replace(name.begin(), name.end(), '_', '-');
    return name;
}

} // namespace

const std::vector<option_spec> &option_table() {
    using host_opts = host_options;
    using limit_opts = operator_limits;
    static const std::vector<option_spec> table = {
        text_option("host", "ADDR", "address to bind", &host_opts::host, not_empty),
        unsigned_option("port", "N", "port to bind (0 = any free port, printed at start-up)", &host_opts::port, 0, 65535),
        text_option("plugin-dir", "DIR", "folder of <id>.plugin.json + lib<id>.so", &host_opts::plugin_dir),
        text_option("recipe-dir", "DIR", "folder of recipe JSON files", &host_opts::recipe_dir),
        text_option("web-dir", "DIR", "static UI folder served at /", &host_opts::web_dir),
        text_option("data-dir", "DIR", "models and outputs; recipes with model_root \"data_dir\" live here", &host_opts::data_dir),
        text_option("log-level", "LEVEL", "trace, debug, info, warn, error, off", &host_opts::log_level, log_level_name),
        with_environment(text_option("token", "TOKEN", "require \"Authorization: Bearer TOKEN\" on /api and /ws",
                                     &host_opts::token, no_whitespace),
                         "OMNIHOST_TOKEN"),
        unsigned_option("max-body-bytes", "N", "largest request body accepted", &host_opts::max_body_bytes, 1024, 1ull << 34),
        text_option("default-recipe", "ID", "recipe listed first and preselected", &host_opts::default_recipe),
        with_aliases(unsigned_option("max-connections", "N",
                                     "HTTP connections served at once, log viewers included; more get 503 "
                                     "(--max-http-threads is the old name)",
                                     &host_opts::max_connections, 2, 4096),
                     {"max-http-threads"}),
        unsigned_option("max-ws-clients", "N", "/ws/omni/logs viewers at once; more get 503 (< max-connections)",
                        &host_opts::max_ws_clients, 1, 4096),
        list_option("allowed-hosts", "LIST",
                    "comma-separated extra Host header names (e.g. a reverse proxy's name); loopback names "
                    "and the bound address are always allowed; * = any",
                    &host_opts::allowed_hosts, host_name),
        list_option("allowed-origins", "LIST",
                    "comma-separated extra origins (http(s)://host[:port]) that may POST and open WebSockets; "
                    "the page's own origin is always allowed; * = any",
                    &host_opts::allowed_origins, origin),
        list_option("remote-allow", "LIST",
                    "comma-separated servers (host:port) a start request may name as remote_url; empty = none "
                    "(a recipe's own remote_url needs no entry)",
                    &host_opts::remote_allow, remote_server),
        unsigned_option("max-frames", "N", "video frames one request may ask for", &limit_opts::max_frames, 1, 1000000),
        unsigned_option("max-pixels", "N", "height x width of one image or frame", &limit_opts::max_pixels, 1, 1ull << 40),
        unsigned_option("max-steps", "N", "num_inference_steps", &limit_opts::max_steps, 1, 1000000),
        positive_number_option("max-duration", "SEC", "seconds of video or audio", &limit_opts::max_duration, 86400),
        unsigned_option("max-samples", "N", "outputs per request", &limit_opts::max_samples, 1, 1024),
        unsigned_option("max-image-bytes", "N", "encoded size of one input image (image-to-video)",
                        &limit_opts::max_image_bytes, 1024, 1ull << 31),
        unsigned_option("cancel-deadline-s", "N",
                        "a cancelled load/generation that has not returned N s later marks the slot failed; "
                        "its plugin instance is abandoned, not destroyed (0 = wait forever)",
                        &host_opts::cancel_deadline_s, 0, 86400),
        unsigned_option("stop-deadline-s", "N", "the same for a plugin's stop (unload) (0 = wait forever)",
                        &host_opts::stop_deadline_s, 0, 86400),
        unsigned_option("queue-depth", "N", "queued jobs at most (all hosts of a shared database); more get 429",
                        &host_opts::queue_depth, 1, 100000),
        text_option("database", "URL",
                    "job records: empty = SQLite <data-dir>/jobs.db, sqlite:PATH, or postgresql://user@host:port/db "
                    "(several hosts share one queue and history)",
                    &host_opts::database),
        text_option("output-dir", "DIR", "job outputs (empty = <data-dir>/outputs; a shared volume for several hosts)",
                    &host_opts::output_dir),
        unsigned_option("output-quota-mb", "N", "disk quota of job outputs; the oldest are evicted above it (0 = none)",
                        &host_opts::output_quota_mb, 0, 1ull << 30),
        unsigned_option("job-lease-s", "N",
                        "a running job's claim, renewed while it runs; another host takes the job over this long "
                        "after its worker died",
                        &host_opts::job_lease_s, 1, 86400),
        flag_option("no-download",
                    "never download models: a hub id missing from the Hugging Face cache is refused (sets "
                    "HF_HUB_OFFLINE=1 for the host and everything it starts)",
                    &host_opts::no_download),
    };
    return table;
}

const option_spec *find_option(const std::string &raw_name) {
    const std::string name = normalize_name(raw_name);
    for (const auto &spec : option_table()) {
        if (spec.name == name) return &spec;
        if (std::find(spec.aliases.begin(), spec.aliases.end(), name) != spec.aliases.end()) return &spec;
    }
    return nullptr;
}

} // namespace omnihost
