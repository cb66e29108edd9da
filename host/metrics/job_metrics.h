// job_metrics.h — the job queue's families of GET /metrics (jobs by state, queue depth, job
// durations), read from the job service at scrape time.
#pragma once

#include "metrics/prometheus_text.h"

namespace omnihost {
struct ApiContext;
namespace metrics {

void write_job_metrics(TextWriter &writer, const ApiContext &context);

} // namespace metrics
} // namespace omnihost
