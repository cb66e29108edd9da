// HTTP client for the upstream vLLM-Omni server (Poco). Every call has an overall deadline and can be
// cancelled: the request runs on a helper thread and the caller's thread aborts the socket when the
// job is cancelled or the deadline passes, so a hung upstream never blocks stop().
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace omnihost::proxy {

struct client_request {
    std::string method = "GET";
    std::string path;  // "/v1/models" (joined to the base URL's path)
    std::string body;
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> headers;
};

struct client_response {
    int status = 0;
    std::string reason;
    std::string content_type;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
};

// Why a call produced no HTTP answer.
enum class transport_failure { none, connect, timeout, cancelled, io, too_large };

class transport_error : public std::runtime_error {
public:
    transport_error(transport_failure kind, const std::string& what)
        : std::runtime_error(what), kind_(kind) {}
    transport_failure kind() const { return kind_; }

private:
    transport_failure kind_;
};

// Thrown inside a call whose answer passes the client's size limit (reported as too_large).
class body_too_large : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Default bound on one upstream answer (and on one streamed line): a generated video or a batch of
// images in base64 stays far below it; an upstream that streams without end does not.
inline constexpr size_t kDefaultMaxUpstreamBody = size_t(512) << 20;

using cancel_poll = std::function<bool()>;
// Called with each complete line of a streamed body (without the trailing newline).
using line_sink = std::function<void(const std::string&)>;

class upstream_client {
public:
    // base_url: "http://host:port" or "https://host[:port][/prefix]". api_key "" = no header.
    upstream_client(std::string base_url, std::string api_key);

    const std::string& base_url() const { return base_url_; }
    // Answers (and streamed lines) longer than this fail with transport_failure::too_large.
    void set_max_body_bytes(size_t n) { max_body_bytes_ = n; }
    size_t max_body_bytes() const { return max_body_bytes_; }

    // Sends and reads the whole answer. Throws transport_error when there is no HTTP answer.
    client_response send(const client_request& req, std::chrono::milliseconds timeout,
                      const cancel_poll& cancelled = {}) const;

    // Like send, but a 2xx body is handed to `on_line` line by line as it arrives (SSE) and is
    // not kept in the result; a non-2xx body is returned whole in `body`.
    client_response send_streaming(const client_request& req, std::chrono::milliseconds timeout,
                                const cancel_poll& cancelled, const line_sink& on_line) const;

    client_response get(const std::string& path, std::chrono::milliseconds timeout,
                     const cancel_poll& cancelled = {}) const;
    client_response post_json(const std::string& path, const std::string& json,
                           std::chrono::milliseconds timeout, const cancel_poll& cancelled = {}) const;

private:
    client_response run(const client_request& req, std::chrono::milliseconds timeout,
                     const cancel_poll& cancelled, const line_sink* on_line) const;

    std::string base_url_;
    std::string api_key_;
    std::string scheme_, host_, prefix_;
    unsigned short port_ = 0;
    size_t max_body_bytes_ = kDefaultMaxUpstreamBody;
};

// multipart/form-data body builder (the videos API takes forms, not JSON).
class multipart_form {
public:
    multipart_form();
    void add_field(const std::string& name, const std::string& value);
    void add_file(const std::string& name, const std::string& filename, const std::string& mime,
                  const std::string& bytes);
    std::string content_type() const;
    std::string body() const;

private:
    std::string boundary_;
    std::string body_;
};

}  // namespace omnihost::proxy
