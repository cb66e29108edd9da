// handlers_jobs.h — /api/jobs and the submit path the playground's synchronous endpoints share.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api_context.h"
#include "api/http_io.h"

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
} // namespace Poco::Net

namespace omnihost {

// The outcome of validating a generate body and queueing it as a job.
struct job_submit_outcome {
    bool queued = false;
    std::string id;
    int64_t position = 0;
    api_error failure;      // when !queued: 400 naming the field, 409, 429, 503
    int retry_after_s = 0; // with 429
};

// Validates `body` for `task` like the playground endpoints (api/generate_request.h) and queues it.
job_submit_outcome submit_generation_job(api_context &context, nlohmann::json body, task_kind task);

// Sends a refused submit (with Retry-After on 429).
void send_submit_failure(Poco::Net::HTTPServerResponse &response, const job_submit_outcome &outcome);

// GET (list) and POST (submit) /api/jobs.
void handle_jobs(api_context &context, Poco::Net::HTTPServerRequest &request, Poco::Net::HTTPServerResponse &response);
// GET/DELETE /api/jobs/{id}, GET /api/jobs/{id}/output.
void handle_job_item(api_context &context, Poco::Net::HTTPServerRequest &request, Poco::Net::HTTPServerResponse &response);

} // namespace omnihost
