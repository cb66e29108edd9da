#include "metrics/job_metrics.h"

#include "api/api_context.h"
#include "jobs/job_service.h"

namespace omnihost::metrics {

void write_job_metrics(text_writer &w, const api_context &context) {
    if (!context.jobs) return;
    // The store's counts: with PostgreSQL these are the shared queue's, every host's jobs.
    const jobs::job_stats stats = context.jobs->stats();
    w.family("omnihost_jobs", "gauge", "Jobs in the job store by state (the history included).");
    const std::pair<const char *, int64_t> states[] = {{"queued", stats.queued},
                                                       {"running", stats.running},
                                                       {"succeeded", stats.succeeded},
                                                       {"failed", stats.failed},
                                                       {"cancelled", stats.cancelled}};
    for (const auto &[state, count] : states) w.sample("omnihost_jobs", {{"state", state}}, static_cast<double>(count));
    w.family("omnihost_job_queue_depth", "gauge", "Jobs waiting in the queue.");
    w.sample("omnihost_job_queue_depth", {}, static_cast<double>(stats.queued));
    w.family("omnihost_job_queue_capacity", "gauge", "The queue's limit (--queue-depth); a submit beyond it gets 429.");
    w.sample("omnihost_job_queue_capacity", {}, static_cast<double>(stats.queue_depth_limit));
    w.family("omnihost_job_output_bytes", "gauge", "Bytes of recorded job outputs on disk.");
    w.sample("omnihost_job_output_bytes", {}, static_cast<double>(stats.output_bytes));
}

} // namespace omnihost::metrics
