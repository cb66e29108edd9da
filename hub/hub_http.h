// A small HTTP(S) client for the hub (Poco::Net, Poco::NetSSL with the system's CA store): one
// request per call, redirects left to the caller (the downloader needs the first answer's
// headers), bodies either kept (bounded) or streamed to a sink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace omnihost::hub {

struct http_answer {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;                             // kept bodies only (error texts, JSON)
    std::string header(const std::string &lower_name) const;
};

struct http_request {
    std::string method = "GET";
    std::string url;
    std::map<std::string, std::string> headers;
    int timeout_s = 60;
    // GET bodies: with a sink, 2xx bodies are streamed to it (it may throw to stop); other
    // bodies, and every body without a sink, are kept up to max_kept_bytes (more is an error).
    std::function<void(const char *data, std::size_t size)> sink;
    // Called with the status and headers of a 2xx answer before its body goes to the sink (the
    // downloader decides there whether the body resumes its partial file or replaces it).
    std::function<void(const http_answer &)> on_start;
    std::size_t max_kept_bytes = 16u << 20;
};

// Performs one request; never follows redirects. Throws hub_error(network) for connection
// failures, timeouts and a body cut short, hub_error(protocol) for an unusable URL.
http_answer http_perform(const http_request &request);

// `location` (absolute or relative, from a 3xx answer) resolved against `base`.
std::string resolve_location(const std::string &base, const std::string &location);

// "scheme://host:port" of a URL (default ports filled in), for same-origin checks.
std::string url_origin(const std::string &url);

}  // namespace omnihost::hub
