// The one mapping from the slot's outcomes and the plugins' status codes to HTTP statuses.
#include <doctest/doctest.h>

#include "services/http_status.h"

using namespace omnihost;

TEST_SUITE("slot") {

TEST_CASE("slot outcomes map to HTTP in one place: refusals 4xx/5xx, the rest 2xx") {
    CHECK(http_status_for(slot_outcome::done) == 200);
    CHECK(http_status_for(slot_outcome::accepted) == 202);
    CHECK(http_status_for(slot_outcome::no_such_job) == 404);
    CHECK(http_status_for(slot_outcome::wrong_state) == 409);
    CHECK(http_status_for(slot_outcome::wrong_modality) == 409);
    CHECK(http_status_for(slot_outcome::busy) == 409);
    CHECK(http_status_for(slot_outcome::not_ready) == 503);
    CHECK(http_status_for(slot_outcome::shutting_down) == 503);
    for (auto outcome : {slot_outcome::done, slot_outcome::accepted, slot_outcome::no_such_job,
                         slot_outcome::wrong_state, slot_outcome::wrong_modality, slot_outcome::busy,
                         slot_outcome::not_ready, slot_outcome::shutting_down}) {
        const slot_reply reply{outcome, "", ""};
        CHECK_MESSAGE(reply.refused() == (http_status_for(outcome) >= 400), slot_outcome_name(outcome));
    }
}

TEST_CASE("plugin status codes map to HTTP") {
    CHECK(http_status_for(OMNIHOST_OK) == 200);
    CHECK(http_status_for(OMNIHOST_INVALID_ARGUMENT) == 400);
    CHECK(http_status_for(OMNIHOST_NOT_SUPPORTED) == 400);
    CHECK(http_status_for(OMNIHOST_CANCELLED) == 409);
    CHECK(http_status_for(OMNIHOST_UNAVAILABLE) == 503);
    CHECK(http_status_for(OMNIHOST_OUT_OF_MEMORY) == 507);
    CHECK(http_status_for(OMNIHOST_INTERNAL) == 500);
}

}
