// openai_routes.h — the host's own OpenAI-style API under /v1 (plus /health, the upstream's
// readiness probe), so other programs, OpenAI clients and another omnihost's remote proxy can use
// this host as they would the upstream vLLM-Omni server. The router sends every such path here
// after its Host and Origin checks; the same bearer token as /api is checked here, and every
// refusal (401, 404, 405, 415, 413) is in OpenAI's error shape.
//
// Content types: JSON bodies everywhere; /v1/videos and /v1/videos/sync also take
// multipart/form-data, the upstream's form for them. A cross-site page cannot use that opening:
// a browser always sends Origin on a cross-origin POST, and the router refuses foreign Origins
// before this point.
#pragma once

#include <string>

#include "api/api_context.h"

namespace Poco::Net {
class HTTPRequestHandler;
class HTTPServerRequest;
} // namespace Poco::Net

namespace omnihost::openai {

bool is_openai_path(const std::string &path);

// The route template a path is counted under on /metrics ("/v1/videos/{id}"); "/v1/unmatched"
// for paths no route serves.
std::string route_template(const std::string &path);

Poco::Net::HTTPRequestHandler *make_handler(api_context &context, const Poco::Net::HTTPServerRequest &request,
                                            const std::string &path);

} // namespace omnihost::openai
