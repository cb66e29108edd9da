#include "openai/openai_errors.h"

#include <Poco/Net/HTTPServerResponse.h>

namespace omnihost::openai {

const char *error_type_for(int status) {
    switch (status) {
    case 400: return "BadRequestError";
    case 401: return "AuthenticationError";
    case 403: return "PermissionDeniedError";
    case 404: return "NotFoundError";
    case 405: return "MethodNotAllowedError";
    case 409: return "ConflictError";
    case 413: return "RequestTooLargeError";
    case 415: return "UnsupportedMediaTypeError";
    case 429: return "RateLimitError";
    case 503: return "ServiceUnavailableError";
    case 507: return "InsufficientStorageError";
    default: return status >= 500 ? "InternalServerError" : "BadRequestError";
    }
}

void send_openai_error(Poco::Net::HTTPServerResponse &response, int status, const std::string &message,
                       const std::string &param) {
    nlohmann::json body = {{"error",
                            {{"message", message},
                             {"type", error_type_for(status)},
                             {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
                             {"code", status}}}};
    if (status == 413) response.setKeepAlive(false);
    if (status == 401) response.set("WWW-Authenticate", "Bearer");
    send_json(response, status, body);
}

} // namespace omnihost::openai
