// bench_http.h — one HTTP request on a kept-alive loopback session, and percentiles of timings.
#pragma once

#include <string>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>

namespace omnihost::bench {

// Sends `method path` (a POST carries `body` as JSON), reads the whole answer into `out` when
// given, and returns the status code.
int request(Poco::Net::HTTPClientSession &session, const std::string &method, const std::string &path,
            const std::string &body = "", std::string *out = nullptr);

// The value at fraction `p` (0.5 = median) of `values`, nearest rank; 0 for none.
double percentile(std::vector<double> values, double p);

} // namespace omnihost::bench
