// auth.h — the optional bearer token on /api/* and /ws/*. Static files stay public so the page
// can load and ask for the token.
#pragma once

#include <string>

namespace Poco::Net { class HTTPServerRequest; }

namespace omnihost {

// True when no token is configured, or the request carries "Authorization: Bearer <token>", or
// (allow_query, for WebSockets: browsers cannot set headers) "?token=<token>" in the URI.
bool request_is_authorized(const Poco::Net::HTTPServerRequest &request, const std::string &token,
                           bool allow_query);

// Compares in time independent of where the strings differ.
bool constant_time_equals(const std::string &a, const std::string &b);

} // namespace omnihost
