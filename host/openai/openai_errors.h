// openai_errors.h — errors of the /v1 routes in the OpenAI shape the upstream server uses:
// {"error":{"message":..., "type":..., "param":<field>|null, "code":<HTTP status>}}, so an OpenAI
// client (and an omnihost remote proxy) reads them like the upstream's.
#pragma once

#include <string>

#include "api/http_io.h"

namespace Poco::Net {
class HTTPServerResponse;
} // namespace Poco::Net

namespace omnihost::openai {

// "BadRequestError", "AuthenticationError", "NotFoundError", ... by status class.
const char *error_type_for(int status);

void send_openai_error(Poco::Net::HTTPServerResponse &response, int status, const std::string &message,
                       const std::string &param = "");
inline void send_openai_error(Poco::Net::HTTPServerResponse &response, const api_error &error) {
    send_openai_error(response, error.status, error.message, error.field);
}

} // namespace omnihost::openai
