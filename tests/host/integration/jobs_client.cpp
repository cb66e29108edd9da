#include "jobs_client.h"

#include <doctest/doctest.h>

namespace omnihost_test {

http_result submit_job(int port, const nlohmann::json &body) { return post(port, "/api/jobs", body); }

nlohmann::json job_record(int port, const std::string &id) { return get(port, "/api/jobs/" + id).json(); }

nlohmann::json wait_job_state(int port, const std::string &id, const std::string &state, double seconds) {
    return wait_job(port, id, [&](const nlohmann::json &j) { return j.is_object() && j.value("state", "") == state; },
                    seconds);
}

http_result delete_job(int port, const std::string &id) { return http(port, "DELETE", "/api/jobs/" + id); }

void start_test_model(int port, const std::string &model_type, nlohmann::json extra) {
    nlohmann::json body = {{"model", "test/" + model_type + "-model"}, {"model_type", model_type}, {"run_mode", "subprocess"}};
    for (auto &[k, v] : extra.items()) body[k] = v;
    const auto started = post(port, "/api/omni/start", body);
    REQUIRE_MESSAGE(started.status == 202, started.body);
    const nlohmann::json status = wait_for_state(port, "ready");
    REQUIRE_MESSAGE(status.value("state", "") == "ready", status.dump());
}

} // namespace omnihost_test
