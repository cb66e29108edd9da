// generation_run.h — runs one validated generation for a synchronous /v1 route and waits for it:
// through the job queue when the host has one (so it waits its turn behind queued jobs and shows
// in the history), else straight on the runtime slot. A client that hangs up cancels it.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api_context.h"
#include "api/http_io.h"

namespace Poco::Net {
class HTTPServerRequest;
} // namespace Poco::Net

namespace omnihost::openai {

struct generation_outcome {
    std::optional<api_error> error;  // set when refused or failed
    std::string id;                 // the job id
    std::string bytes;
    std::string mime_type;
    nlohmann::json metadata = nlohmann::json::object();
    double seconds = 0;             // generation time
};

generation_outcome run_generation(api_context &context, Poco::Net::HTTPServerRequest &request, generate_call call,
                                 const std::string &model);

} // namespace omnihost::openai
