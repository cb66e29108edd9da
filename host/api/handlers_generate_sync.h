// handlers_generate_sync.h — the playground's synchronous generate endpoints, answered through a job.
#pragma once

#include "api/api_context.h"

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
} // namespace Poco::Net

namespace omnihost {

// Queues the body as a job, waits for it (cancelling it if the client hangs up) and answers with
// the playground's JSON: *_base64 media, mime_type, metadata, generation_time, job_id.
void answer_generation_via_job(api_context &context, Poco::Net::HTTPServerRequest &request,
                               Poco::Net::HTTPServerResponse &response, task_kind task);

} // namespace omnihost
