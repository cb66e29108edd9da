// http_status.h — the one place where the host's domain answers become HTTP statuses: the runtime
// slot's outcomes and the plugins' status codes. Every handler maps through these.
#pragma once

#include "omnihost_plugin.h"
#include "slot/runtime_slot.h"

namespace omnihost {

// done 200, accepted 202, no_such_job 404, wrong_state/wrong_modality/busy 409,
// not_ready/shutting_down 503.
int http_status_for(slot_outcome outcome);

// A plugin call's status: INVALID_ARGUMENT and NOT_SUPPORTED 400 (the request asked for something
// this plugin cannot do), CANCELLED 409, UNAVAILABLE 503, OUT_OF_MEMORY 507, anything else 500.
int http_status_for(omnihost_status code);

} // namespace omnihost
