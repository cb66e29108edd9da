// Jobs against the real host binary and the test plugin: the bounded FIFO queue (order, 429 with
// Retry-After), cancel of queued and running jobs, history and outputs across a restart, a kill -9
// in the middle of an output write, paging, and the playground endpoints as wrappers over jobs.
#include <algorithm>
#include <csignal>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include <doctest/doctest.h>
#include <sys/wait.h>

#include "host_process.h"
#include "jobs_client.h"

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

// A video job that runs until cancelled (the test plugin polls the cancel flag every 10 ms).
json endless_job(const std::string &id) {
    return {{"task", "video"}, {"prompt", "endless"}, {"job_id", id}, {"test_steps", 100000}, {"test_step_ms", 10}};
}

json quick_job(const std::string &id, const std::string &task = "video") {
    json body = {{"task", task}, {"job_id", id}, {"test_steps", 2}};
    body[task == "audio" || task == "tts" ? "text" : "prompt"] = "quick " + id;
    return body;
}

bool running(const json &j) { return j.is_object() && j.value("state", "") == "running"; }

fs::path temp_dir(const std::string &tag) {
    std::string pattern = (fs::temp_directory_path() / ("omnihost-jobs-" + tag + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    return pattern;
}

} // namespace

TEST_SUITE("http_jobs") {

TEST_CASE("the queue runs jobs first in, first out; a full queue answers 429 with Retry-After") {
    host_process host({{"--queue-depth", "3"}});
    const int port = host.port();
    start_test_model(port, "video");
    REQUIRE(submit_job(port, endless_job("blocker")).status == 202);
    CHECK(running(wait_job(port, "blocker", running)));

    for (int i = 1; i <= 3; ++i) {
        const auto queued = submit_job(port, quick_job(numbered("q", i)));
        REQUIRE_MESSAGE(queued.status == 202, queued.body);
        CHECK(queued.json()["id"] == numbered("q", i));
        CHECK(queued.json()["position"] == i);
        CHECK(queued.headers.at("Location") == numbered("/api/jobs/q", i));
    }
    const auto full = submit_job(port, quick_job("q4"));
    CHECK(full.status == 429);
    CHECK(full.headers.count("Retry-After"));
    CHECK(std::stoi(full.headers.at("Retry-After")) >= 1);
    CHECK(full.json()["error"].get<std::string>().find("--queue-depth") != std::string::npos);
    // The synchronous endpoints queue the same way, so they are refused the same way.
    const auto sync_full = post(port, "/api/omni/generate-video", {{"prompt", "x"}});
    CHECK(sync_full.status == 429);
    CHECK(sync_full.headers.count("Retry-After"));
    CHECK(job_record(port, "q4").value("error", "") != ""); // never recorded: 404 body

    const json queued = get(port, "/api/jobs?state=queued").json();
    REQUIRE(queued["items"].size() == 3);
    CHECK(queued["total"] == 3);
    // Newest first, each with its place in the queue.
    CHECK(queued["items"][0]["id"] == "q3");
    CHECK(queued["items"][0]["position"] == 3);
    CHECK(queued["items"][2]["id"] == "q1");
    CHECK(queued["items"][2]["position"] == 1);
    CHECK(job_record(port, "q2")["position"] == 2);

    REQUIRE(delete_job(port, "blocker").status == 202);
    CHECK(wait_job_state(port, "blocker", "cancelled")["state"] == "cancelled");
    std::vector<json> done;
    for (const char *id : {"q1", "q2", "q3"}) done.push_back(wait_job_state(port, id, "succeeded"));
    for (const auto &j : done) REQUIRE_MESSAGE(j["state"] == "succeeded", j.dump());
    // First in, first out: each started after the one before it finished.
    CHECK(done[0]["finished_at"].get<std::string>() <= done[1]["started_at"].get<std::string>());
    CHECK(done[1]["finished_at"].get<std::string>() <= done[2]["started_at"].get<std::string>());
    CHECK(submit_job(port, quick_job("q5")).status == 202);
}

TEST_CASE("DELETE cancels a queued job before it runs and a running job mid-run; a finished one is kept") {
    host_process host;
    const int port = host.port();
    start_test_model(port, "video");
    REQUIRE(submit_job(port, endless_job("run-1")).status == 202);
    REQUIRE(submit_job(port, quick_job("wait-1")).status == 202);
    const json r = wait_job(port, "run-1", [](const json &j) {
        return running(j) && j["progress"]["step"].get<int>() >= 2;
    });
    REQUIRE_MESSAGE(running(r), r.dump());
    CHECK(r["progress"]["phase"] == "denoise");
    CHECK(r["progress"]["total"] == 100000);
    CHECK(r["progress"]["eta_s"].is_number());

    const auto cancel_queued = delete_job(port, "wait-1");
    CHECK(cancel_queued.status == 200);
    CHECK(cancel_queued.json()["outcome"] == "cancelled");
    const json w = job_record(port, "wait-1");
    CHECK(w["state"] == "cancelled");
    CHECK(w["started_at"].is_null()); // it never ran

    const auto cancel_running = delete_job(port, "run-1");
    CHECK(cancel_running.status == 202);
    CHECK(cancel_running.json()["outcome"] == "cancel_requested");
    const json c = wait_job_state(port, "run-1", "cancelled");
    CHECK(c["state"] == "cancelled");
    CHECK(c["output"].is_null());
    // The cancel reached the plugin (it returned CANCELLED), and the model still serves.
    const json status = get(port, "/api/omni/status").json();
    CHECK(status["state"] == "ready");
    REQUIRE(submit_job(port, quick_job("after")).status == 202);
    CHECK(wait_job_state(port, "after", "succeeded")["state"] == "succeeded");

    // A finished job: DELETE (a cancel) that came too late keeps it and says so.
    const auto late = delete_job(port, "after");
    CHECK(late.status == 409);
    CHECK(late.json()["outcome"] == "already_finished");
    CHECK(late.json()["state"] == "succeeded");
    CHECK(late.json()["error"].get<std::string>().find("?purge=true") != std::string::npos);
    CHECK(job_record(port, "after")["state"] == "succeeded");
    CHECK(get(port, "/api/jobs/after/output").status == 200);
    // ?purge=true removes it (and its output) from history.
    const auto removed = http(port, "DELETE", "/api/jobs/after?purge=true");
    CHECK(removed.status == 200);
    CHECK(removed.json()["outcome"] == "removed");
    CHECK(get(port, "/api/jobs/after").status == 404);
    CHECK(delete_job(port, "after").status == 404);
    CHECK(delete_job(port, "never-was").status == 404);
    CHECK(http(port, "DELETE", "/api/jobs/never-was?purge=true").status == 404);
    CHECK(http(port, "DELETE", "/api/jobs/x?purge=yes").json()["field"] == "purge");
    CHECK(http(port, "DELETE", "/api/jobs/x?colour=red").status == 400);
}

TEST_CASE("DELETE ?purge=true: a queued job is cancelled and removed; a running one once it stopped, within a bound") {
    host_process host;
    const int port = host.port();
    start_test_model(port, "video");
    REQUIRE(submit_job(port, endless_job("purge-run")).status == 202);
    REQUIRE(running(wait_job(port, "purge-run", running)));
    REQUIRE(submit_job(port, quick_job("purge-queued")).status == 202);
    const auto queued = http(port, "DELETE", "/api/jobs/purge-queued?purge=true");
    CHECK(queued.status == 200);
    CHECK(queued.json()["outcome"] == "removed");
    CHECK(get(port, "/api/jobs/purge-queued").status == 404);
    // The test plugin looks at its cancel flag every step (10 ms): it stops well within the bound.
    const auto run = http(port, "DELETE", "/api/jobs/purge-run?purge=true");
    CHECK(run.status == 200);
    CHECK(run.json()["outcome"] == "removed");
    CHECK(get(port, "/api/jobs/purge-run").status == 404);
    // A job that ignores its cancel is not removed while it runs: 202, removed:false, its state.
    json stubborn = quick_job("purge-stubborn");
    stubborn.update({{"test_steps", 400}, {"test_step_ms", 20}, {"test_ignore_cancel", true}});
    REQUIRE(submit_job(port, stubborn).status == 202);
    REQUIRE(running(wait_job(port, "purge-stubborn", running)));
    const auto held = http(port, "DELETE", "/api/jobs/purge-stubborn?purge=true");
    CHECK(held.status == 202);
    CHECK(held.json()["removed"] == false);
    CHECK(held.json()["state"] == "running");
    CHECK(job_record(port, "purge-stubborn")["state"] == "running");
    const json ended = wait_job(port, "purge-stubborn", [](const json &j) {
        return j.is_object() && j.value("state", "") != "running";
    });
    CHECK(ended["state"] != "running");
    CHECK(http(port, "DELETE", "/api/jobs/purge-stubborn?purge=true").status == 200);
    CHECK(get(port, "/api/jobs/purge-stubborn").status == 404);
}

TEST_CASE("bad job requests get 4xx naming the field; the host keeps serving") {
    host_process host;
    const int port = host.port();
    CHECK(submit_job(port, {{"prompt", "x"}}).json()["field"] == "task");
    CHECK(submit_job(port, {{"task", "paint"}, {"prompt", "x"}}).status == 400);
    CHECK(submit_job(port, {{"task", "chat"}, {"messages", json::array()}}).status == 400);
    // No model yet: 503, nothing queued.
    CHECK(submit_job(port, quick_job("early")).status == 503);
    CHECK(get(port, "/api/jobs").json()["total"] == 0);
    start_test_model(port, "video");
    const auto bad = submit_job(port, {{"task", "video"}, {"prompt", "x"}, {"width", 4096}});
    CHECK(bad.status == 400);
    CHECK(bad.json()["field"] == "width");
    CHECK(submit_job(port, {{"task", "video"}, {"prompt", "x"}, {"job_id", "a b"}}).json()["field"] == "job_id");
    CHECK(submit_job(port, quick_job("audio-on-video", "audio")).status == 409);
    CHECK(get(port, "/api/jobs?limit=0").json()["field"] == "limit");
    CHECK(get(port, "/api/jobs?state=done").json()["field"] == "state");
    CHECK(get(port, "/api/jobs?colour=red").status == 400);
    CHECK(get(port, "/api/jobs/no-such-job").status == 404);
    CHECK(get(port, "/api/jobs/no-such-job/output").status == 404);
    CHECK(get(port, "/api/jobs/x/y").status == 404);
    CHECK(http(port, "PUT", "/api/jobs/x").status == 405);
    REQUIRE(submit_job(port, endless_job("busy")).status == 202);
    REQUIRE(submit_job(port, quick_job("dup")).status == 202);
    const auto dup = submit_job(port, quick_job("dup"));
    CHECK(dup.status == 409);
    CHECK(dup.json()["field"] == "job_id");
    CHECK(get(port, "/api/jobs/dup/output").status == 409); // still queued
    REQUIRE(running(wait_job(port, "busy", running)));
    CHECK(delete_job(port, "busy").status == 202);
    CHECK(wait_job_state(port, "dup", "succeeded")["state"] == "succeeded");
}

TEST_CASE("a job database that cannot be reached stops the start with a message naming it") {
    bool started = true;
    std::string message;
    try {
        host_process host({{"--database", "postgresql://nobody@127.0.0.1:1/none"}});
    } catch (const std::exception &e) {
        started = false;
        message = e.what();
    }
    CHECK_FALSE(started);
    CHECK(message.find("job database PostgreSQL postgresql://nobody@127.0.0.1:1/none") != std::string::npos);
}

TEST_CASE("/api/jobs answers to the same token and Origin rules as every /api route") {
    host_process host({{"--token", "s3cret"}});
    const int port = host.port();
    CHECK(get(port, "/api/jobs").status == 401);
    CHECK(get(port, "/api/jobs/x/output").status == 401);
    CHECK(http(port, "DELETE", "/api/jobs/x").status == 401);
    CHECK(get(port, "/api/jobs", "s3cret").status == 200);
    const auto foreign = http(port, "DELETE", "/api/jobs/x", "",
                              {{"Authorization", "Bearer s3cret"}, {"Origin", "http://evil.example"}});
    CHECK(foreign.status == 403);
    const auto text = http(port, "POST", "/api/jobs", "{}", {{"Authorization", "Bearer s3cret"}, {"Content-Type", "text/plain"}});
    CHECK(text.status == 415);
}

TEST_CASE("the playground endpoints are wrappers over jobs: same answer, a job record behind it") {
    host_process host;
    const int port = host.port();
    start_test_model(port, "image");
    const auto image = post(port, "/api/omni/generate", {{"prompt", "a red square"}, {"job_id", "sync-1"}, {"seed", 3}});
    REQUIRE_MESSAGE(image.status == 200, image.body);
    CHECK(image.json()["job_id"] == "sync-1");
    CHECK(image.json()["mime_type"] == "image/png");
    CHECK(!image.json()["image_base64"].get<std::string>().empty());
    const json record = job_record(port, "sync-1");
    CHECK(record["state"] == "succeeded");
    CHECK(record["task"] == "image");
    CHECK(record["prompt"] == "a red square");
    CHECK(record["request"]["seed"] == 3);
    const auto file = get(port, "/api/jobs/sync-1/output");
    CHECK(file.status == 200);
    CHECK(file.headers.at("Content-Type") == "image/png");
    CHECK(file.body.substr(1, 3) == "PNG");
    // A failing generation keeps its status code through the job.
    const auto boom = post(port, "/api/omni/generate", {{"prompt", "x"}, {"test_fail", "decoder exploded"}, {"job_id", "boom"}});
    CHECK(boom.status == 500);
    CHECK(job_record(port, "boom")["state"] == "failed");
    CHECK(job_record(port, "boom")["error"].get<std::string>().find("decoder exploded") != std::string::npos);
}

TEST_CASE("a playground request waiting in the queue is answered 503 when the model is stopped") {
    host_process host;
    const int port = host.port();
    start_test_model(port, "video");
    REQUIRE(submit_job(port, endless_job("holder")).status == 202);
    REQUIRE(running(wait_job(port, "holder", running)));
    auto waiting = std::async(std::launch::async, [port] {
        return post(port, "/api/omni/generate-video", {{"prompt", "behind"}, {"job_id", "behind"}});
    });
    REQUIRE(wait_job_state(port, "behind", "queued")["state"] == "queued");
    const auto stopped = post(port, "/api/omni/stop", json::object());
    CHECK(stopped.status == 200);
    const http_result answer = waiting.get();
    CHECK(answer.status == 503);
    CHECK(answer.json()["error"].get<std::string>().find("waited in the queue") != std::string::npos);
    CHECK(job_record(port, "behind")["state"] == "cancelled");
    CHECK(job_record(port, "holder")["state"] == "cancelled"); // the stop cancelled the running one
}

TEST_CASE("history pages newest first with a cursor, without gaps or repeats") {
    host_process host;
    const int port = host.port();
    start_test_model(port, "audio");
    for (int i = 0; i < 5; ++i) REQUIRE(submit_job(port, quick_job(numbered("p", i), "audio")).status == 202);
    CHECK(wait_job_state(port, "p4", "succeeded")["state"] == "succeeded");
    std::vector<std::string> seen;
    std::string target = "/api/jobs?limit=2";
    for (int page = 0; page < 5; ++page) {
        const json answer = get(port, target).json();
        CHECK(answer["total"] == 5);
        for (const auto &item : answer["items"]) seen.push_back(item["id"]);
        if (answer["next_before"].is_null()) break;
        target = numbered("/api/jobs?limit=2&before=", static_cast<int>(answer["next_before"].get<int64_t>()));
    }
    CHECK(seen == std::vector<std::string>{"p4", "p3", "p2", "p1", "p0"});
}

TEST_CASE("history and outputs survive a restart of the host") {
    const fs::path shared = temp_dir("restart");
    const std::vector<std::string> args = {"--database", "sqlite:" + (shared / "jobs.db").string(), "--output-dir",
                                           (shared / "outputs").string()};
    std::string bytes;
    {
        host_process first({args});
        start_test_model(first.port(), "image");
        REQUIRE(submit_job(first.port(), quick_job("keep-1", "image")).status == 202);
        REQUIRE(submit_job(first.port(), quick_job("keep-2", "image")).status == 202);
        REQUIRE(wait_job_state(first.port(), "keep-2", "succeeded")["state"] == "succeeded");
        bytes = get(first.port(), "/api/jobs/keep-1/output").body;
        REQUIRE(bytes.size() > 8);
        CHECK(first.terminate() == 0);
    }
    host_process second({args});
    const json list = get(second.port(), "/api/jobs").json();
    REQUIRE(list["items"].size() == 2);
    CHECK(list["items"][0]["id"] == "keep-2");
    CHECK(list["items"][1]["id"] == "keep-1");
    CHECK(list["items"][1]["state"] == "succeeded");
    const auto again = get(second.port(), "/api/jobs/keep-1/output");
    CHECK(again.status == 200);
    CHECK(again.body == bytes);
    fs::remove_all(shared);
}

TEST_CASE("a kill -9 in the middle of an output write never leaves a half file listed") {
    const fs::path shared = temp_dir("kill");
    const fs::path outputs = shared / "outputs";
    const fs::path marker = shared / "write-held";
    const std::vector<std::string> args = {"--database", "sqlite:" + (shared / "jobs.db").string(), "--output-dir",
                                           outputs.string()};
    {
        host_config config{args};
        config.env["OMNIHOST_TEST_HOLD_OUTPUT_WRITE"] = marker.string();
        host_process first(config);
        start_test_model(first.port(), "video");
        REQUIRE(submit_job(first.port(), quick_job("torn", "video")).status == 202);
        // The writer stops after half the bytes (fsynced) and says so: kill it right there.
        for (int i = 0; i < 1500 && !fs::exists(marker); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        REQUIRE(fs::exists(marker));
        std::vector<fs::path> temporaries;
        for (const auto &entry : fs::directory_iterator(outputs)) temporaries.push_back(entry.path());
        REQUIRE(temporaries.size() == 1);
        CHECK(temporaries[0].filename().string().rfind(".torn.", 0) == 0);
        CHECK(fs::file_size(temporaries[0]) > 0);
        const json mid = job_record(first.port(), "torn");
        CHECK(mid["state"] == "running");
        CHECK(mid["output"].is_null());
        REQUIRE(::kill(first.pid(), SIGKILL) == 0);
        CHECK(first.terminate() != 0);
    }
    host_process second({args});
    // The start-up sweep removed the half file; the job is back in the queue, nothing listed.
    CHECK(fs::is_empty(outputs));
    json torn = job_record(second.port(), "torn");
    CHECK(torn["state"] == "queued");
    CHECK(torn["output"].is_null());
    CHECK(get(second.port(), "/api/jobs/torn/output").status == 409);
    // Once a model serving it is loaded, it runs again and its output is whole.
    start_test_model(second.port(), "video");
    torn = wait_job_state(second.port(), "torn", "succeeded");
    REQUIRE_MESSAGE(torn["state"] == "succeeded", torn.dump());
    CHECK(torn["attempts"] == 2);
    const auto file = get(second.port(), "/api/jobs/torn/output");
    CHECK(file.status == 200);
    CHECK(static_cast<int64_t>(file.body.size()) == torn["output"]["bytes"].get<int64_t>());
    fs::remove_all(shared);
}

TEST_CASE("a disk quota evicts the oldest outputs first; their records stay") {
    host_process host({{"--output-quota-mb", "1"}});
    const int port = host.port();
    start_test_model(port, "video");
    // 256x256 test videos are raw YUV (~98 KB a frame); 8 frames each is well over 1 MiB per two.
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) {
        const std::string id = numbered("big-", i);
        ids.push_back(id);
        json body = quick_job(id, "video");
        body["width"] = 256;
        body["height"] = 256;
        body["fps"] = 8;
        body["duration"] = 1;
        REQUIRE(submit_job(port, body).status == 202);
        REQUIRE(wait_job_state(port, id, "succeeded")["state"] == "succeeded");
    }
    const json newest = job_record(port, ids.back());
    CHECK(newest["output"]["evicted"] == false);
    CHECK(get(port, "/api/jobs/" + ids.back() + "/output").status == 200);
    const json oldest = job_record(port, ids.front());
    CHECK(oldest["state"] == "succeeded");
    CHECK(oldest["output"]["evicted"] == true);
    CHECK(get(port, "/api/jobs/" + ids.front() + "/output").status == 410);
    int64_t kept = 0;
    for (const auto &id : ids) {
        const json j = job_record(port, id);
        if (!j["output"]["evicted"].get<bool>()) kept += j["output"]["bytes"].get<int64_t>();
    }
    CHECK(kept <= 1024 * 1024 + job_record(port, ids.back())["output"]["bytes"].get<int64_t>());
}

} // TEST_SUITE
