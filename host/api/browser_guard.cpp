#include "api/browser_guard.h"

#include <algorithm>
#include <cctype>

#include <Poco/Net/DNS.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetworkInterface.h>

namespace omnihost {
namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

bool all_digits(const std::string &text) {
    return !text.empty() && text.size() <= 5 &&
           std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

// host[:port] or [v6]:port -> {host, port}; port "" when absent. nullopt when malformed.
std::optional<std::pair<std::string, std::string>> split_authority(const std::string &value) {
    if (value.empty()) return std::nullopt;
    std::string host, port;
    if (value.front() == '[') {
        const auto close = value.find(']');
        if (close == std::string::npos) return std::nullopt;
        host = value.substr(1, close - 1);
        const std::string rest = value.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':' || !all_digits(rest.substr(1))) return std::nullopt;
            port = rest.substr(1);
        }
        if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.%") != std::string::npos)
            return std::nullopt;
    } else {
        const auto colon = value.find(':');
        if (colon != std::string::npos) {
            if (value.find(':', colon + 1) != std::string::npos) return std::nullopt; // bare IPv6
            port = value.substr(colon + 1);
            if (!all_digits(port)) return std::nullopt;
        }
        host = value.substr(0, colon);
        if (host.empty() ||
            host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
                std::string::npos)
            return std::nullopt;
    }
    host = lower(host);
    if (host.size() > 1 && host.back() == '.') host.pop_back(); // "localhost." is localhost
    return std::make_pair(host, port);
}

// "http://Example.com" -> "http://example.com:80": one spelling per origin, so comparing
// strings compares origins. nullopt for anything but an http(s) origin.
std::optional<std::string> normalize_origin(const std::string &origin) {
    const std::string text = lower(origin);
    std::string scheme;
    if (text.rfind("http://", 0) == 0) scheme = "http";
    else if (text.rfind("https://", 0) == 0) scheme = "https";
    else return std::nullopt;
    std::string authority = text.substr(scheme.size() + 3);
    while (!authority.empty() && authority.back() == '/') authority.pop_back();
    auto parts = split_authority(authority);
    if (!parts) return std::nullopt;
    const std::string port = parts->second.empty() ? (scheme == "http" ? "80" : "443") : parts->second;
    return scheme + "://" + parts->first + ":" + port;
}

void add_host(browser_policy &policy, std::string host) {
    host = lower(host);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (!host.empty() && std::find(policy.hosts.begin(), policy.hosts.end(), host) == policy.hosts.end())
        policy.hosts.push_back(host);
}

} // namespace

browser_policy make_browser_policy(const host_options &options, const std::string &bound_address,
                                  bool bound_to_wildcard) {
    browser_policy policy;
    for (const char *name : {"localhost", "127.0.0.1", "::1"}) add_host(policy, name);
    if (!bound_to_wildcard) {
        add_host(policy, options.host); // as the operator spelled it (may be a name)
        add_host(policy, bound_address);
    } else {
        // Reached from the LAN: the machine's own addresses and name are its names. Neither can
        // be pointed elsewhere by a web page (rebinding needs a name the attacker controls).
        try {
            for (const auto &nif : Poco::Net::NetworkInterface::list())
                for (const auto &entry : nif.addressList())
                    add_host(policy, entry.get<Poco::Net::NetworkInterface::IP_ADDRESS>().toString());
        } catch (const Poco::Exception &) {
        }
        try {
            add_host(policy, Poco::Net::DNS::hostName());
        } catch (const Poco::Exception &) {
        }
    }
    for (const auto &host : options.allowed_hosts) {
        if (host == "*") policy.any_host = true;
        else add_host(policy, host);
    }
    for (const auto &origin : options.allowed_origins) {
        if (origin == "*") policy.any_origin = true;
        else if (auto normal = normalize_origin(origin)) policy.origins.push_back(*normal);
    }
    return policy;
}

std::optional<std::string> host_of_header(const std::string &value) {
    auto parts = split_authority(value);
    if (!parts) return std::nullopt;
    return parts->first;
}

std::optional<api_error> check_host_header(const browser_policy &policy,
                                          const Poco::Net::HTTPServerRequest &request) {
    if (!request.has("Host")) return std::nullopt;
    const std::string value = request.get("Host");
    auto host = host_of_header(value);
    if (!host) return api_error{400, "Host: malformed header", "Host"};
    if (policy.any_host) return std::nullopt;
    if (std::find(policy.hosts.begin(), policy.hosts.end(), *host) != policy.hosts.end()) return std::nullopt;
    return api_error{403, "Host: '" + *host + "' is not a name of this host (allow it with --allowed-hosts)", "Host"};
}

bool is_state_changing(const std::string &method) {
    return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

std::optional<api_error> check_origin(const browser_policy &policy,
                                     const Poco::Net::HTTPServerRequest &request) {
    if (!request.has("Origin")) return std::nullopt;
    const std::string origin = request.get("Origin");
    if (policy.any_origin) return std::nullopt;
    const auto normal = normalize_origin(origin);
    const api_error refusal{403, "Origin: '" + origin.substr(0, 200) +
                                    "' may not change this host (allow it with --allowed-origins)",
                           "Origin"};
    if (!normal) return refusal; // "null" (sandboxed frames, file://) and other schemes
    // Our own origin: the page was loaded from this very Host (already checked), over http or
    // https (a TLS proxy in front).
    if (auto parts = split_authority(request.get("Host", "")); parts) {
        for (const char *scheme : {"http", "https"}) {
            const std::string port = !parts->second.empty() ? parts->second
                                     : std::string(scheme) == "http" ? "80" : "443";
            if (*normal == std::string(scheme) + "://" + parts->first + ":" + port) return std::nullopt;
        }
    }
    if (std::find(policy.origins.begin(), policy.origins.end(), *normal) != policy.origins.end())
        return std::nullopt;
    return refusal;
}

std::optional<api_error> check_json_content_type(const Poco::Net::HTTPServerRequest &request) {
    const bool has_body = request.getChunkedTransferEncoding() ||
                          (request.hasContentLength() && request.getContentLength64() != 0);
    if (!has_body) return std::nullopt;
    std::string type = request.get("Content-Type", "");
    type = lower(type.substr(0, type.find(';')));
    type.erase(0, type.find_first_not_of(" \t"));
    type.erase(type.find_last_not_of(" \t") + 1);
    if (type == "application/json") return std::nullopt;
    return api_error{415, "Content-Type: request bodies must be application/json (got '" +
                             (type.empty() ? std::string("none") : type.substr(0, 100)) + "')",
                    "Content-Type"};
}

std::vector<std::pair<std::string, std::string>> security_headers(const std::string &host_header) {
    // connect-src 'self' covers ws: to the same host in current browsers; naming the WebSocket
    // URL as well keeps older ones working. Only a plain host[:port] is ever echoed.
    std::string connect = "connect-src 'self'";
    if (!host_header.empty() && split_authority(host_header) &&
        host_header.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]") ==
            std::string::npos)
        connect += " ws://" + host_header + " wss://" + host_header;
    return {
        {"Content-Security-Policy",
         "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
         "media-src 'self' data: blob:; " + connect +
             "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
        {"X-Frame-Options", "DENY"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Content-Type-Options", "nosniff"},
        {"Cross-Origin-Resource-Policy", "same-origin"},
    };
}

void set_security_headers(Poco::Net::HTTPServerResponse &response, const std::string &host_header) {
    for (const auto &[name, value] : security_headers(host_header)) response.set(name, value);
}

} // namespace omnihost
