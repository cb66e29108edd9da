// jobs_client.h — helpers of the job tests: submit, look up, and wait for a job's state by
// polling its record (a condition, never a fixed sleep).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "host_process.h"

namespace omnihost_test {

http_result submit_job(int port, const nlohmann::json &body);
nlohmann::json job_record(int port, const std::string &id);
// Polls GET /api/jobs/{id} until `done(record)` or `seconds` pass; returns the last record.
template <class Pred> nlohmann::json wait_job(int port, const std::string &id, Pred done, double seconds = 30);
nlohmann::json wait_job_state(int port, const std::string &id, const std::string &state, double seconds = 30);
http_result delete_job(int port, const std::string &id);
// Starts the test plugin's `model_type` model and waits for ready.
void start_test_model(int port, const std::string &model_type, nlohmann::json extra = nlohmann::json::object());

} // namespace omnihost_test

#include <chrono>
#include <thread>

namespace omnihost_test {
template <class Pred> nlohmann::json wait_job(int port, const std::string &id, Pred done, double seconds) {
    nlohmann::json last;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        last = job_record(port, id);
        if (done(last)) return last;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return last;
}
} // namespace omnihost_test
