#include "core/remote_endpoint.h"

#include <algorithm>
#include <cctype>

namespace omnihost {
namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

bool is_host_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

// "host[:port]" or "[v6][:port]" -> "host:port" with `default_port` when none is written.
std::optional<std::string> parse_authority(const std::string &authority, int default_port, std::string *why) {
    auto fail = [why](const char *reason) -> std::optional<std::string> {
        if (why) *why = reason;
        return std::nullopt;
    };
    if (authority.find('@') != std::string::npos) return fail("must not carry user info (put a key in remote_api_key)");
    std::string host, port_text;
    if (!authority.empty() && authority[0] == '[') {
        const auto close = authority.find(']');
        if (close == std::string::npos) return fail("has an unclosed IPv6 bracket");
        const std::string inner = authority.substr(1, close - 1);
        if (inner.empty() || !std::all_of(inner.begin(), inner.end(), [](char c) {
                return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
            }))
            return fail("has a malformed IPv6 address");
        host = "[" + lower(inner) + "]";
        const std::string rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':') return fail("has text after the IPv6 address");
            port_text = rest.substr(1);
            if (port_text.empty()) return fail("has an empty port");
        }
    } else {
        const auto colon = authority.find(':');
        host = lower(authority.substr(0, colon));
        if (colon != std::string::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) return fail("has an empty port");
        }
        if (host.empty()) return fail("has no host");
        if (!std::all_of(host.begin(), host.end(), is_host_char))
            return fail("has a host with characters outside letters, digits, '.', '-' and '_'");
    }
    int port = default_port;
    if (!port_text.empty()) {
        if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), [](unsigned char c) { return std::isdigit(c); }))
            return fail("has a port that is not a number");
        port = std::stoi(port_text);
        if (port < 1 || port > 65535) return fail("has a port outside 1..65535");
    }
    if (port == 0) return fail("has no port");
    return host + ":" + std::to_string(port);
}

} // namespace

std::optional<std::string> remote_endpoint(const std::string &url, std::string *why) {
    const std::string low = lower(url);
    int default_port = 0;
    size_t scheme_len = 0;
    if (low.rfind("http://", 0) == 0) default_port = 80, scheme_len = 7;
    else if (low.rfind("https://", 0) == 0) default_port = 443, scheme_len = 8;
    else {
        if (why) *why = "must start with http:// or https://";
        return std::nullopt;
    }
    // The authority ends where an RFC 3986 parser (the plugin's client) ends it; a '\\', which
    // browsers read as '/', is then refused as a host character, so both readings agree.
    const auto end = url.find_first_of("/?#", scheme_len);
    return parse_authority(url.substr(scheme_len, end == std::string::npos ? std::string::npos : end - scheme_len),
                           default_port, why);
}

std::optional<std::string> normalize_remote_allow_item(const std::string &item) {
    // A port is required: the allow-list names servers, not whole machines.
    const bool bracketed = !item.empty() && item[0] == '[';
    const auto last_colon = item.rfind(':');
    if (last_colon == std::string::npos || (bracketed && last_colon < item.find(']'))) return std::nullopt;
    return parse_authority(item, 0, nullptr);
}

} // namespace omnihost
