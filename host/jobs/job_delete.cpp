// cancel_then_remove(): the one "delete this job" of the host (DELETE /v1/videos/{id}, DELETE
// /api/jobs/{id}?purge=true), on top of the service's cancel and remove, which never do each
// other's work.
#include "jobs/job_service.h"

namespace omnihost::jobs {

delete_result cancel_then_remove(job_service &jobs, const std::string &id, std::chrono::milliseconds settle) {
    delete_result result;
    const job_cancel_outcome cancelled = jobs.cancel(id);
    if (cancelled == job_cancel_outcome::NotFound) return result;
    if (cancelled == job_cancel_outcome::CancelRequested) {
        auto settled = jobs.wait_finished(id, settle);
        if (!settled) return result; // removed meanwhile by another request: deleted all the same
        if (!is_terminal(settled->state)) {
            result.removed = remove_outcome::NotFinished;
            result.job = std::move(settled);
            return result;
        }
    }
    result.removed = jobs.remove(id);
    // Terminal states are final, so NotFinished here would be a job another request replaced
    // under the same id meanwhile: answered with its record like one that did not stop.
    if (result.removed == remove_outcome::NotFinished) result.job = jobs.get(id);
    return result;
}

} // namespace omnihost::jobs
