// Two real hosts sharing one real PostgreSQL server (started by the test on loopback): one queue,
// one history. Every job runs exactly once; a job whose worker is killed -9 is taken over by the
// other host once its lease (2 s here) runs out.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <set>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/Timespan.h>

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

std::vector<std::string> shared_args(const pg_server &pg, const fs::path &outputs) {
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
    pg_server pg;
    const fs::path outputs = temp_outputs();
    host_process a({shared_args(pg, outputs)});
    host_process b({shared_args(pg, outputs)});
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
    pg_server pg;
    const fs::path outputs = temp_outputs();
    host_process a({shared_args(pg, outputs)});
    host_process b({shared_args(pg, outputs)});
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
    host_process c({shared_args(pg, outputs)});
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

TEST_CASE("a job run by one host reaches the other host's WebSocket as it happens (LISTEN/NOTIFY), not by a poll") {
    pg_server pg;
    const fs::path outputs = temp_outputs();
    host_process a({shared_args(pg, outputs)});
    host_process b({shared_args(pg, outputs)});
    start_test_model(a.port(), "video"); // B loads nothing: it never runs the job, it only hears of it
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(b.port()));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/ws/omni/logs", Poco::Net::HTTPMessage::HTTP_1_1);
    Poco::Net::HTTPResponse response;
    Poco::Net::WebSocket ws(session, request, response);
    ws.setReceiveTimeout(Poco::Timespan(1, 0));
    REQUIRE(submit_job(a.port(), {{"task", "video"}, {"prompt", "heard"}, {"job_id", "heard"}, {"test_steps", 30},
                                  {"test_step_ms", 50}}).status == 202);
    std::set<std::string> events;
    int last_step = 0;
    std::string worker;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::vector<char> buffer(1 << 20);
    while (std::chrono::steady_clock::now() < deadline && !events.count("succeeded")) {
        int flags = 0;
        int n = 0;
        try {
            n = ws.receiveFrame(buffer.data(), static_cast<int>(buffer.size()), flags);
        } catch (const Poco::TimeoutException &) {
            continue;
        }
        if (n <= 0) break;
        const json frame = json::parse(std::string(buffer.data(), static_cast<size_t>(n)), nullptr, false);
        if (!frame.is_object() || frame.value("type", "") != "job" || !frame.contains("job")) continue;
        if (frame["job"].value("id", "") != "heard") continue;
        events.insert(frame.value("event", ""));
        worker = frame["job"].value("worker", "");
        if (frame.value("event", "") == "progress") last_step = std::max(last_step, frame["job"]["progress"]["step"].get<int>());
    }
    ws.close();
    CHECK(events.count("running"));
    CHECK(events.count("progress"));
    CHECK(events.count("succeeded"));
    CHECK(last_step >= 1);
    CHECK(worker.find(numbered("-", static_cast<int>(a.pid())) + "-") != std::string::npos); // run by A
    fs::remove_all(outputs);
}

} // TEST_SUITE
