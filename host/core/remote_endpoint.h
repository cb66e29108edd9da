// remote_endpoint.h — the server (host:port) an http(s) URL names, told the same way for a
// request's URL and for the operator's --remote-allow list, so the two compare as plain strings.
#pragma once

#include <optional>
#include <string>

namespace omnihost {

// "host:port" of an http(s) URL, host lower-cased (IPv6 in brackets), the port explicit or the
// scheme's default. nullopt (with `why` set) for a URL without a plain host: user info, percent
// escapes or characters outside a host name make it ambiguous which server a client would reach.
std::optional<std::string> remote_endpoint(const std::string &url, std::string *why = nullptr);

// Normalises one --remote-allow item ("Host:8000" -> "host:8000"); nullopt when it is not host:port.
std::optional<std::string> normalize_remote_allow_item(const std::string &item);

} // namespace omnihost
