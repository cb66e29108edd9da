// Two real hosts sharing one real PostgreSQL server (started by the test on loopback): one queue,
// one history. Every job runs exactly once; a job whose worker is killed -9 is taken over by the
// other host once its lease (2 s here) runs out.
#include <csignal>
#include <set>

#include <doctest/doctest.h>

#include "host_process.h"
#include "jobs_client.h"
#include "pg_server.h"

using nlohmann::json;
using namespace omnihost_test;
namespace fs = std::filesystem;

namespace {

// "q" + std::to_string(i) spelled so that GCC 12 does not warn (a -Wrestrict false positive).
std::string numbered(const char *prefix, int i) {
    std::string out = prefix;
    out += std::to_string(i);
    return out;
}

std::vector<std::string> shared_args(const PgServer &pg, const fs::path &outputs) {
    return {"--database", pg.uri(), "--output-dir", outputs.string(), "--job-lease-s", "2"};
}

fs::path temp_outputs() {
    std::string pattern = (fs::temp_directory_path() / "omnihost-pg-out-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    return pattern;
}

} // namespace

TEST_SUITE("http_jobs_pg") {

TEST_CASE("two hosts on one PostgreSQL share the queue and history; each job runs exactly once") {
    PgServer pg;
    const fs::path outputs = temp_outputs();
    HostProcess a({shared_args(pg, outputs)});
    HostProcess b({shared_args(pg, outputs)});
    start_test_model(a.port(), "audio");
    start_test_model(b.port(), "audio");
    constexpr int kJobs = 16;
    for (int i = 0; i < kJobs; ++i) {
        const int port = i % 2 ? b.port() : a.port();
        const auto r = submit_job(port, {{"task", "audio"}, {"text", numbered("shared ", i)},
                                         {"job_id", numbered("s", i)}, {"test_steps", 3}, {"test_step_ms", 20}});
        REQUIRE_MESSAGE(r.status == 202, r.body);
    }
    std::set<std::string> workers;
    for (int i = 0; i < kJobs; ++i) {
        const std::string id = numbered("s", i);
        const json j = wait_job_state(a.port(), id, "succeeded", 60);
        REQUIRE_MESSAGE(j["state"] == "succeeded", j.dump());
        CHECK(j["attempts"] == 1); // claimed once, by one worker
        workers.insert(j["worker"].get<std::string>());
        // Either host serves any job's record and output (one history, one output volume).
        CHECK(get(b.port(), "/api/jobs/" + id + "/output").status == 200);
    }
    CHECK(get(a.port(), "/api/jobs").json()["total"] == kJobs);
    CHECK(get(b.port(), "/api/jobs").json()["total"] == kJobs);
    MESSAGE("jobs were run by " << workers.size() << " worker(s)");
    fs::remove_all(outputs);
}

TEST_CASE("a job whose host is killed -9 is finished by the other host after the lease runs out") {
    PgServer pg;
    const fs::path outputs = temp_outputs();
    HostProcess a({shared_args(pg, outputs)});
    HostProcess b({shared_args(pg, outputs)});
    start_test_model(a.port(), "video");
    // Only A serves the model now, so A claims the job.
    REQUIRE(submit_job(a.port(), {{"task", "video"}, {"prompt", "orphan"}, {"job_id", "orphan"}, {"test_steps", 60},
                                  {"test_step_ms", 50}}).status == 202);
    const json claimed = wait_job(b.port(), "orphan", [](const json &j) {
        return j.value("state", "") == "running" && j["progress"]["step"].get<int>() >= 1;
    });
    REQUIRE_MESSAGE(claimed["state"] == "running", claimed.dump());
    const std::string first_worker = claimed["worker"];
    CHECK(first_worker.find(numbered("-", static_cast<int>(a.pid())) + "-") != std::string::npos);
    REQUIRE(::kill(a.pid(), SIGKILL) == 0);
    a.terminate();
    start_test_model(b.port(), "video");
    const json done = wait_job_state(b.port(), "orphan", "succeeded", 60);
    REQUIRE_MESSAGE(done["state"] == "succeeded", done.dump());
    CHECK(done["attempts"] == 2);
    CHECK(done["worker"] != first_worker);
    CHECK(get(b.port(), "/api/jobs/orphan/output").status == 200);

    // A cancel asked on one host reaches the job running on another (through the record).
    HostProcess c({shared_args(pg, outputs)});
    REQUIRE(submit_job(b.port(), {{"task", "video"}, {"prompt", "long"}, {"job_id", "remote-cancel"},
                                  {"test_steps", 100000}, {"test_step_ms", 10}}).status == 202);
    REQUIRE(wait_job_state(c.port(), "remote-cancel", "running")["state"] == "running");
    // Its progress, stored with each lease renewal, is visible from the host that does not run it.
    const json seen = wait_job(c.port(), "remote-cancel", [](const json &j) {
        return j.is_object() && j["progress"]["step"].get<int>() >= 2 && j["progress"]["total"] == 100000;
    });
    CHECK(seen["progress"]["phase"] == "denoise");
    CHECK(delete_job(c.port(), "remote-cancel").status == 202);
    CHECK(wait_job_state(c.port(), "remote-cancel", "cancelled")["state"] == "cancelled");
    fs::remove_all(outputs);
}

} // TEST_SUITE
