// job_metrics.h — the job queue's families of GET /metrics (jobs by state, queue depth, job
// durations), read from the job service at scrape time.
#pragma once

#include "metrics/prometheus_text.h"

namespace omnihost {
struct api_context;
namespace metrics {

void write_job_metrics(text_writer &writer, const api_context &context);

} // namespace metrics
} // namespace omnihost
