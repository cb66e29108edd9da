#include "services/http_status.h"

namespace omnihost {

int http_status_for(slot_outcome outcome) {
    switch (outcome) {
    case slot_outcome::done: return 200;
    case slot_outcome::accepted: return 202;
    case slot_outcome::no_such_job: return 404;
    case slot_outcome::wrong_state:
    case slot_outcome::wrong_modality:
    case slot_outcome::busy: return 409;
    case slot_outcome::not_ready:
    case slot_outcome::shutting_down: return 503;
    }
    return 500;
}

int http_status_for(omnihost_status code) {
    switch (code) {
    case OMNIHOST_OK: return 200;
    case OMNIHOST_INVALID_ARGUMENT: return 400;
    case OMNIHOST_NOT_SUPPORTED: return 400;
    case OMNIHOST_OUT_OF_MEMORY: return 507;
    case OMNIHOST_CANCELLED: return 409;
    case OMNIHOST_UNAVAILABLE: return 503;
    default: return 500;
    }
}

} // namespace omnihost
