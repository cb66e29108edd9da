// http_io.h — small helpers every handler uses: JSON answers, the uniform error body, reading a
// request body under the size limit, parsing it as a JSON object.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
} // namespace Poco::Net

namespace omnihost {

// An answer that is not 2xx: {"success":false,"error":message[,"field":field]}.
struct api_error {
    int status = 400;
    std::string message;
    std::string field; // "" when no single field is at fault
};

void send_json(Poco::Net::HTTPServerResponse &response, int status, const nlohmann::json &body);
void send_error(Poco::Net::HTTPServerResponse &response, const api_error &error);

// Reads the whole body, refusing more than `limit` bytes (413, checked against Content-Length
// first, then while reading chunked bodies). Returns the error or nullopt.
std::optional<api_error> read_body(Poco::Net::HTTPServerRequest &request, uint64_t limit,
                                  std::string &out);

// Reads and parses a JSON object body. An empty body counts as {} only when `empty_is_object`.
std::optional<api_error> read_json_object(Poco::Net::HTTPServerRequest &request, uint64_t limit,
                                         nlohmann::json &out, bool empty_is_object);

// Standard base64 (RFC 4648, with padding).
std::string base64_encode(const std::string &bytes);

} // namespace omnihost
