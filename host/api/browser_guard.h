// browser_guard.h — the boundary between web pages and the host. A page on any site can make the
// user's browser send requests to 127.0.0.1; these checks decide which ones the host serves:
//
// - Host header: only the host's own names (loopback names with any port, the bound address, the
//   machine's addresses when bound to a wildcard, names the operator allows). A DNS-rebinding page
//   reaches us under its own name, so its requests carry a foreign Host and get 403.
// - Origin: state-changing requests and WebSocket upgrades from a page of another origin get 403.
//   Requests without Origin (curl, scripts, same-origin GETs) pass: browsers always send Origin
//   on cross-origin POSTs and on WebSocket upgrades.
// - Content-Type: a request body must be application/json (415), so a "simple" cross-site form
//   or text/plain fetch can never be read as an API call even if another check slipped.
// - Response headers: every answer carries a restrictive CSP and anti-framing/sniffing headers.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/http_io.h"
#include "config/host_options.h"

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
} // namespace Poco::Net

namespace omnihost {

struct browser_policy {
    std::vector<std::string> hosts;   // lower-case host names/addresses without port
    bool any_host = false;            // --allowed-hosts '*'
    std::vector<std::string> origins; // lower-case scheme://host[:port] allowed besides our own
    bool any_origin = false;          // --allowed-origins '*'
};

// The names a request may carry in its Host header: loopback names, `bound_address` (unless a
// wildcard, then every address of this machine's interfaces and its host name), and the operator's.
browser_policy make_browser_policy(const host_options &options, const std::string &bound_address,
                                  bool bound_to_wildcard);

// The host part of a Host header value ("[::1]:8091" -> "::1", "Example.com:80" -> "example.com");
// nullopt for a malformed value.
std::optional<std::string> host_of_header(const std::string &value);

// 403 when the Host header names someone else. A request without Host (HTTP/1.0 tools) passes:
// every browser sends one.
std::optional<api_error> check_host_header(const browser_policy &policy,
                                          const Poco::Net::HTTPServerRequest &request);

// True for methods that may change state (everything but GET, HEAD, OPTIONS).
bool is_state_changing(const std::string &method);

// 403 when the request carries an Origin that is neither the host's own (http(s):// + the Host
// header) nor allowed by the operator. No Origin passes.
std::optional<api_error> check_origin(const browser_policy &policy,
                                     const Poco::Net::HTTPServerRequest &request);

// 415 when the request has a body whose Content-Type is not application/json (parameters such as
// "; charset=utf-8" are fine). Bodiless requests pass.
std::optional<api_error> check_json_content_type(const Poco::Net::HTTPServerRequest &request);

// The security headers of every response. `host_header` (already checked) lets connect-src name
// the WebSocket URL of this very host; pass "" when unknown.
std::vector<std::pair<std::string, std::string>> security_headers(const std::string &host_header);
void set_security_headers(Poco::Net::HTTPServerResponse &response, const std::string &host_header);

} // namespace omnihost
