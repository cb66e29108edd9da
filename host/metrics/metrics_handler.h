// metrics_handler.h — GET /metrics (Prometheus text format 0.0.4) and the wrapper the router puts
// around every request handler to count it. /metrics follows the same auth rule as /api: when the
// host has a token, a scrape must send it ("authorization: {credentials: ...}" in a Prometheus
// scrape config, i.e. "Authorization: Bearer <token>").
#pragma once

#include <string>

namespace Poco::Net {
class HTTPRequestHandler;
class HTTPServerRequest;
class HTTPServerResponse;
} // namespace Poco::Net

namespace omnihost {
struct api_context;

namespace metrics {

class host_metric_set;

inline constexpr const char *kMetricsPath = "/metrics";

void handle_metrics(api_context &context, Poco::Net::HTTPServerRequest &request,
                    Poco::Net::HTTPServerResponse &response);

// Takes ownership of `inner`; on return of its handleRequest, records `route` (a template),
// the method and the status the response carries, and the time since this call.
Poco::Net::HTTPRequestHandler *metered(host_metric_set &metrics, Poco::Net::HTTPRequestHandler *inner,
                                       std::string route, std::string method);

} // namespace metrics
} // namespace omnihost
