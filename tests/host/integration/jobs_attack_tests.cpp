// /api/jobs probed the way an attacker or a careless client would, against the real binary and
// the test plugin: hostile ids and query strings, bodies that are not objects, outputs of jobs
// that have none, the cache policy of a reused id, 429's Retry-After, a queue depth of 0,
// concurrent submits and cancels, and job databases that are corrupt or read-only at start.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_process.h"
#include "jobs_client.h"

using nlohmann::json;
using namespace omnihost_test;
namespace fs = std::filesystem;

namespace {

std::string id_of(const char *prefix, int a, int b = -1) {
    std::string out = prefix;
    out += std::to_string(a);
    if (b >= 0) {
        out += '-';
        out += std::to_string(b);
    }
    return out;
}

json quick(const std::string &id, int width = 64) {
    return {{"task", "video"}, {"prompt", "quick " + id}, {"job_id", id}, {"test_steps", 2}, {"width", width}};
}

json endless(const std::string &id) {
    return {{"task", "video"}, {"prompt", "endless"}, {"job_id", id}, {"test_steps", 100000}, {"test_step_ms", 10}};
}

bool running(const json &j) { return j.is_object() && j.value("state", "") == "running"; }
bool finished(const json &j) {
    const std::string s = j.is_object() ? j.value("state", "") : "";
    return s == "succeeded" || s == "failed" || s == "cancelled";
}

fs::path temp_dir(const std::string &tag) {
    std::string pattern = (fs::temp_directory_path() / ("omnihost-attack-" + tag + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    return pattern;
}

// Starts the host expecting it to refuse; returns the message (empty when it started).
std::string refused_start(const std::vector<std::string> &args) {
    try {
        host_process host({args});
    } catch (const std::exception &e) {
        return e.what();
    }
    return "";
}

// The record, or null once the id answers 404 (removed, or never stored).
json record_or_null(int port, const std::string &id) {
    const auto got = get(port, "/api/jobs/" + id);
    return got.status == 404 ? json(nullptr) : got.json();
}

// Polls until the job finished or is gone (a condition, not a fixed wait); returns the last view.
json settle(int port, const std::string &id, double seconds = 60) {
    json last;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        last = record_or_null(port, id);
        if (last.is_null() || finished(last)) return last;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return last;
}

// The job database reached "ok" once the host answers a list: the table exists.
int64_t listed_total(int port) { return get(port, "/api/jobs?limit=500").json().value("total", int64_t{-1}); }

} // namespace

TEST_SUITE("http_jobs_attack") {

TEST_CASE("ids that are path traversal, SQL, unicode or huge are refused or not found; the table survives") {
    host_process host;
    const int port = host.port();
    start_test_model(port, "video");
    REQUIRE(submit_job(port, quick("keep")).status == 202);
    REQUIRE(wait_job_state(port, "keep", "succeeded")["state"] == "succeeded");

    const std::vector<std::string> targets = {
        "/api/jobs/..%2F..%2Fetc%2Fpasswd", "/api/jobs/..%2Fkeep", "/api/jobs/%2E%2E", "/api/jobs/'%3B%20DROP%20TABLE%20omnihost_jobs%3B--",
        "/api/jobs/keep'%20OR%20'1'%3D'1", "/api/jobs/%E2%98%83", "/api/jobs/%zz", "/api/jobs/keep%00",
        "/api/jobs/" + std::string(65, 'a'), "/api/jobs/" + std::string(4000, 'k')};
    for (const auto &target : targets) {
        for (const std::string suffix : {"", "/output"}) {
            const auto got = http(port, "GET", target + suffix);
            CHECK_MESSAGE(got.status == 404, target, suffix, " -> ", got.status, " ", got.body);
        }
        const auto gone = http(port, "DELETE", target);
        CHECK_MESSAGE(gone.status == 404, target, " DELETE -> ", gone.status);
    }
    // Raw dot segments never reach a file outside the output folder.
    CHECK(http(port, "GET", "/api/jobs/../../../etc/passwd").status == 404);
    CHECK(http(port, "GET", "/api/jobs/keep/../../../etc/passwd").status == 404);

    for (const std::string &id : std::vector<std::string>{"../../etc", "..", "'; DROP TABLE omnihost_jobs;--", "a' OR '1'='1", "\xe2\x98\x83", "",
                                 "a/b", "a.b", std::string(65, 'x')}) {
        json body = quick("x");
        body["job_id"] = id;
        const auto refused = submit_job(port, body);
        CHECK_MESSAGE(refused.status == 400, id);
        CHECK(refused.json().value("field", "") == "job_id");
    }
    json numeric = quick("x");
    numeric["job_id"] = 5;
    CHECK(submit_job(port, numeric).json().value("field", "") == "job_id");

    // After all of that the history is whole and the kept output is served.
    CHECK(listed_total(port) == 1);
    CHECK(get(port, "/api/jobs/keep/output").status == 200);
    const std::string longest(64, 'z');
    REQUIRE(submit_job(port, quick(longest)).status == 202);
    CHECK(wait_job_state(port, longest, "succeeded")["state"] == "succeeded");
}

TEST_CASE("paging parameters that are negative, huge, non-numeric, null or badly escaped get 400 naming them") {
    host_process host;
    const int port = host.port();
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"limit=-1", "limit"},         {"limit=0", "limit"},      {"limit=501", "limit"},
        {"limit=abc", "limit"},        {"limit=null", "limit"},   {"limit=", "limit"},
        {"limit", "limit"},            {"limit=1e3", "limit"},    {"limit=99999999999999999999999", "limit"},
        {"limit=%2B5", "limit"},       {"limit=1%00", "limit"},   {"before=-5", "before"},
        {"before=", "before"},         {"before=x", "before"},    {"before=99999999999999999999999", "before"},
        {"state=", "state"},           {"state=QUEUED", "state"}, {"task=chat", "task"},
        {"colour=red", "colour"},      {"limit=%zz", "query"},    {"state=%", "query"},
        {"before=%G1", "query"}};
    for (const auto &[query, field] : cases) {
        const auto got = get(port, "/api/jobs?" + query);
        CHECK_MESSAGE(got.status == 400, query, " -> ", got.status, " ", got.body);
        CHECK_MESSAGE(got.json().value("field", "") == field, query, " -> ", got.body);
    }
    // The largest cursor is fine: an empty page.
    const auto far = get(port, "/api/jobs?before=9223372036854775807&limit=500");
    CHECK(far.status == 200);
    CHECK(far.json()["items"].empty());
    CHECK(get(port, "/api/jobs").status == 200);
}

TEST_CASE("a submit body that is not an object, or whose task is not a known name, gets 400") {
    host_process host;
    const int port = host.port();
    start_test_model(port, "video");
    const std::map<std::string, std::string> json_type = {{"Content-Type", "application/json"}};
    for (const std::string body : {"[]", "\"video\"", "null", "42", "true", "[{\"task\":\"video\"}]"}) {
        const auto got = http(port, "POST", "/api/jobs", body, json_type);
        CHECK_MESSAGE(got.status == 400, body, " -> ", got.body);
        CHECK(got.json().value("field", "") == "body");
    }
    for (const std::string body : {"", "{", "{\"task\":\"video\",\"prompt\":\"x\"} trailing", "{\"task\":\"video\",}"}) {
        const auto got = http(port, "POST", "/api/jobs", body, json_type);
        CHECK_MESSAGE(got.status == 400, body, " -> ", got.body);
    }
    for (const json &task : {json(nullptr), json(5), json("VIDEO"), json("chat"), json("../video"), json::array()}) {
        const auto got = submit_job(port, {{"task", task}, {"prompt", "x"}});
        CHECK_MESSAGE(got.status == 400, task.dump());
        CHECK(got.json().value("field", "") == "task");
    }
    CHECK(listed_total(port) == 0);
}

TEST_CASE("DELETE cancels, never removes; ?purge=true removes, then 404; outputs of failed, cancelled and removed jobs are refused") {
    host_process host;
    const int port = host.port();
    start_test_model(port, "video");

    json failing = quick("fails");
    failing["test_fail"] = "boom";
    REQUIRE(submit_job(port, failing).status == 202);
    const json failed = wait_job(port, "fails", finished);
    REQUIRE(failed["state"] == "failed");
    CHECK(failed["output"].is_null());
    CHECK(get(port, "/api/jobs/fails/output").status == 409);

    REQUIRE(submit_job(port, endless("runs")).status == 202);
    REQUIRE(running(wait_job(port, "runs", running)));
    REQUIRE(submit_job(port, quick("waits")).status == 202);
    CHECK(get(port, "/api/jobs/waits/output").status == 409);
    const auto first_queued = delete_job(port, "waits");
    CHECK(first_queued.status == 200);
    CHECK(first_queued.json()["outcome"] == "cancelled");
    CHECK(get(port, "/api/jobs/waits/output").status == 409);
    const auto second_queued = delete_job(port, "waits");
    CHECK(second_queued.status == 409);
    CHECK(second_queued.json()["outcome"] == "already_finished");
    CHECK(second_queued.json()["state"] == "cancelled");
    const auto purged = http(port, "DELETE", "/api/jobs/waits?purge=true");
    CHECK(purged.status == 200);
    CHECK(purged.json()["outcome"] == "removed");
    CHECK(delete_job(port, "waits").status == 404);
    CHECK(http(port, "DELETE", "/api/jobs/waits?purge=true").status == 404);
    CHECK(get(port, "/api/jobs/waits/output").status == 404);

    const auto first_running = delete_job(port, "runs");
    CHECK(first_running.status == 202);
    CHECK(first_running.json()["outcome"] == "cancel_requested");
    // Asked again while it winds down: still a cancel request, or (once it ended) already finished.
    const auto again = delete_job(port, "runs");
    CHECK((again.status == 202 || (again.status == 409 && again.json()["outcome"] == "already_finished")));
    const json stopped = settle(port, "runs");
    if (stopped.is_object()) {
        CHECK(stopped["state"] == "cancelled");
        CHECK(get(port, "/api/jobs/runs/output").status == 409);
    }

    REQUIRE(submit_job(port, quick("done")).status == 202);
    REQUIRE(wait_job_state(port, "done", "succeeded")["state"] == "succeeded");
    CHECK(delete_job(port, "done").status == 409);
    CHECK(get(port, "/api/jobs/done/output").status == 200); // a late cancel keeps the result
    CHECK(http(port, "DELETE", "/api/jobs/done?purge=true").status == 200);
    CHECK(get(port, "/api/jobs/done/output").status == 404);
    CHECK(delete_job(port, "done").status == 404);
    CHECK(get(port, "/api/jobs").status == 200);
}

TEST_CASE("an output carries the record's MIME type, no client-chosen file name, and is never cached as immutable") {
    host_process host;
    const int port = host.port();
    start_test_model(port, "video");
    // A prompt built to break out of a header if it ever reached one.
    json first = quick("reuse", 64);
    first["prompt"] = "x\r\nContent-Disposition: attachment; filename=\"../../evil.sh\"\r\nX-Injected: 1";
    REQUIRE(submit_job(port, first).status == 202);
    const json one = wait_job_state(port, "reuse", "succeeded");
    REQUIRE(one["state"] == "succeeded");
    const auto a = get(port, "/api/jobs/reuse/output");
    REQUIRE(a.status == 200);
    CHECK(a.headers.count("X-Injected") == 0);
    CHECK(a.headers.count("Content-Disposition") == 0);
    CHECK(a.headers.at("Content-Type") == one["output"]["mime_type"].get<std::string>());
    CHECK(a.headers.at("X-Content-Type-Options") == "nosniff");
    // DELETE frees the id; a new job under it has other bytes at the same URL, so a browser must
    // revalidate rather than keep the first file for a year.
    REQUIRE(http(port, "DELETE", "/api/jobs/reuse?purge=true").status == 200);
    REQUIRE(submit_job(port, quick("reuse", 128)).status == 202);
    REQUIRE(wait_job_state(port, "reuse", "succeeded")["state"] == "succeeded");
    const auto b = get(port, "/api/jobs/reuse/output");
    REQUIRE(b.status == 200);
    CHECK(b.body != a.body);
    for (const auto *response : {&a, &b}) {
        const std::string cache = response->headers.count("Cache-Control") ? response->headers.at("Cache-Control") : "";
        CHECK_MESSAGE(cache.find("immutable") == std::string::npos, cache);
        CHECK_MESSAGE(cache.find("max-age=3") == std::string::npos, cache);
    }
    CHECK(b.headers.at("Cross-Origin-Resource-Policy") == "same-origin"); // no embedding from other sites
    // The file removed by hand: 410, the record stays, the host keeps serving.
    int removed_files = 0;
    for (const auto &entry : fs::directory_iterator(host.temp_dir() / "data" / "outputs"))
        if (entry.path().filename().string().rfind("reuse.", 0) == 0) removed_files += fs::remove(entry.path()) ? 1 : 0;
    REQUIRE(removed_files == 1);
    CHECK(get(port, "/api/jobs/reuse/output").status == 410);
    CHECK(job_record(port, "reuse")["state"] == "succeeded");
    CHECK(get(port, "/api/jobs").status == 200);
}

TEST_CASE("Origin, Content-Type and token rules hold for every /api/jobs method; a refused request changes nothing") {
    {
        host_process host;
        const int port = host.port();
        start_test_model(port, "video");
        REQUIRE(submit_job(port, endless("held")).status == 202);
        REQUIRE(running(wait_job(port, "held", running)));
        const std::map<std::string, std::string> evil = {{"Origin", "http://evil.example"}, {"Content-Type", "application/json"}};
        CHECK(http(port, "DELETE", "/api/jobs/held", "", evil).status == 403);
        CHECK(http(port, "POST", "/api/jobs", quick("forged").dump(), evil).status == 403);
        CHECK(http(port, "POST", "/api/jobs", quick("forged").dump(), {{"Origin", "null"}, {"Content-Type", "application/json"}}).status == 403);
        // A form post (what a foreign page can send without a preflight) is not JSON.
        CHECK(http(port, "POST", "/api/jobs", "task=video&prompt=x", {{"Content-Type", "application/x-www-form-urlencoded"}}).status == 415);
        CHECK(http(port, "POST", "/api/jobs", quick("forged").dump(), {{"Content-Type", "text/plain"}}).status == 415);
        CHECK(record_or_null(port, "forged").is_null());
        const json held = job_record(port, "held");
        CHECK(held["state"] == "running");
        CHECK(held["cancel_requested"] == false);
        // The host's own origin may.
        const std::string self = "http://127.0.0.1:" + std::to_string(port);
        CHECK(http(port, "DELETE", "/api/jobs/held", "", {{"Origin", self}}).status == 202);
    }
    host_process host({{"--token", "s3cret"}});
    const int port = host.port();
    REQUIRE(post(port, "/api/omni/start",
                 {{"model", "test/video-model"}, {"model_type", "video"}, {"run_mode", "subprocess"}}, "s3cret")
                .status == 202);
    REQUIRE(wait_for_state(port, "ready", 20, "s3cret").value("state", "") == "ready");
    const std::map<std::string, std::string> good = {{"Authorization", "Bearer s3cret"}, {"Content-Type", "application/json"}};
    REQUIRE(http(port, "POST", "/api/jobs", quick("mine").dump(), good).status == 202);
    // A token in the query string (it would land in logs and history) never authorizes /api/jobs.
    CHECK(get(port, "/api/jobs?token=s3cret").status == 401);
    CHECK(get(port, "/api/jobs/mine/output?token=s3cret").status == 401);
    for (const std::string wrong : {"Bearer S3CRET", "Bearer s3cret2", "Bearer s3cre", "Basic czNjcmV0", "s3cret", "Bearer "}) {
        CHECK_MESSAGE(http(port, "DELETE", "/api/jobs/mine", "", {{"Authorization", wrong}}).status == 401, wrong);
        CHECK_MESSAGE(http(port, "POST", "/api/jobs", quick("theirs").dump(), {{"Authorization", wrong}, {"Content-Type", "application/json"}}).status == 401, wrong);
    }
    const auto listed = http(port, "GET", "/api/jobs", "", good);
    REQUIRE(listed.status == 200);
    CHECK(listed.json()["total"] == 1);
    CHECK(listed.json()["items"][0]["id"] == "mine");
}

TEST_CASE("a full queue answers 429 with Retry-After in whole seconds; --queue-depth 0 is refused at start") {
    host_process host({{"--queue-depth", "1"}});
    const int port = host.port();
    start_test_model(port, "video");
    REQUIRE(submit_job(port, endless("blocker")).status == 202);
    REQUIRE(running(wait_job(port, "blocker", running)));
    REQUIRE(submit_job(port, quick("one")).status == 202);
    const auto full = submit_job(port, quick("two"));
    CHECK(full.status == 429);
    REQUIRE(full.headers.count("Retry-After") == 1);
    const std::string retry = full.headers.at("Retry-After");
    CHECK_MESSAGE(!retry.empty(), retry);
    CHECK_MESSAGE(std::all_of(retry.begin(), retry.end(), [](char c) { return c >= '0' && c <= '9'; }), retry);
    const long seconds = retry.empty() ? 0 : std::stol(retry);
    CHECK(seconds >= 1);
    CHECK(seconds <= 3600);
    CHECK(record_or_null(port, "two").is_null());
    CHECK(delete_job(port, "blocker").status == 202);
    CHECK(wait_job_state(port, "one", "succeeded")["state"] == "succeeded");

    const std::string message = refused_start({"--queue-depth", "0"});
    CHECK_MESSAGE(message.find("--queue-depth") != std::string::npos, message);
    CHECK(refused_start({"--queue-depth", "-3"}).find("--queue-depth") != std::string::npos);
    CHECK(refused_start({"--queue-depth", "lots"}).find("--queue-depth") != std::string::npos);
}

TEST_CASE("concurrent submits, cancels and lists: the host keeps serving and the counts add up") {
    host_process host({{"--queue-depth", "1000"}});
    const int port = host.port();
    start_test_model(port, "video");
    constexpr int kThreads = 4;
    constexpr int kPerThread = 12;
    std::mutex mutex;
    std::map<std::string, std::string> cancel_outcome; // id -> what DELETE answered
    std::vector<std::string> accepted;
    std::atomic<int> refused{0}, list_failures{0}, other_failures{0};
    std::atomic<bool> submitting{true};

    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                const std::string id = id_of("c", t, i);
                const auto got = submit_job(port, quick(id));
                if (got.status != 202) {
                    ++refused;
                    continue;
                }
                std::lock_guard lock(mutex);
                accepted.push_back(id);
                if (i % 2 == 1) cancel_outcome[id] = "";
            }
            // Cancel every other own job, racing the worker.
            for (int i = 1; i < kPerThread; i += 2) {
                const std::string id = id_of("c", t, i);
                const auto got = delete_job(port, id);
                std::string outcome = got.status == 404 ? "404" : got.json().value("outcome", "?");
                if (got.status != 200 && got.status != 202 && got.status != 409) ++other_failures;
                std::lock_guard lock(mutex);
                cancel_outcome[id] = outcome;
            }
        });
    }
    std::thread lister([&] {
        while (submitting) {
            const auto page = get(port, "/api/jobs?limit=50");
            if (page.status != 200 || !page.json().contains("items")) ++list_failures;
        }
    });
    for (auto &thread : threads) thread.join();
    submitting = false;
    lister.join();

    CHECK(refused == 0);
    CHECK(list_failures == 0);
    CHECK(other_failures == 0);
    REQUIRE(accepted.size() == static_cast<size_t>(kThreads * kPerThread));

    // Everything settles: nothing stays queued or running.
    int removed = 0, succeeded = 0, cancelled = 0;
    for (const auto &id : accepted) {
        const json record = settle(port, id);
        const auto asked = cancel_outcome.find(id);
        if (asked != cancel_outcome.end()) CHECK_MESSAGE(asked->second != "404", id);
        // A cancel never removes: every job is still there, and one that finished before its
        // cancel (409 already_finished) kept its result.
        REQUIRE_MESSAGE(record.is_object(), id);
        REQUIRE_MESSAGE(finished(record), record.dump());
        if (asked == cancel_outcome.end()) {
            CHECK_MESSAGE(record["state"] == "succeeded", record.dump());
        } else if (asked->second == "cancelled") {
            CHECK_MESSAGE(record["state"] == "cancelled", record.dump());
        } else if (asked->second == "already_finished") {
            CHECK_MESSAGE(record["state"] == "succeeded", record.dump());
            CHECK_MESSAGE(get(port, "/api/jobs/" + id + "/output").status == 200, id);
        }
        if (record["state"] == "succeeded") ++succeeded;
        if (record["state"] == "cancelled") ++cancelled;
    }
    const json all = get(port, "/api/jobs?limit=500").json();
    CHECK(all["total"] == kThreads * kPerThread - removed);
    CHECK(all["items"].size() == static_cast<size_t>(kThreads * kPerThread - removed));
    CHECK(succeeded + cancelled + removed == kThreads * kPerThread);
    CHECK(get(port, "/api/jobs?state=queued").json()["total"] == 0);
    CHECK(get(port, "/api/jobs?state=running").json()["total"] == 0);
    CHECK(get(port, "/api/jobs?state=succeeded").json()["total"] == succeeded);
    CHECK(get(port, "/api/jobs?state=cancelled").json()["total"] == cancelled);
    // Still serving new work.
    REQUIRE(submit_job(port, quick("after")).status == 202);
    CHECK(wait_job_state(port, "after", "succeeded")["state"] == "succeeded");
}

TEST_CASE("a corrupt job database stops the start with a message naming it") {
    const fs::path dir = temp_dir("corrupt");
    const fs::path db = dir / "jobs.db";
    for (const std::string &content : {std::string(4096, '\x5a'), std::string("SQLite format 3\0garbage", 23)}) {
        {
            std::ofstream out(db, std::ios::binary | std::ios::trunc);
            out << content;
        }
        const std::string message = refused_start({"--database", "sqlite:" + db.string()});
        CHECK_MESSAGE(message.find("job database SQLite " + db.string()) != std::string::npos, message);
        CHECK_MESSAGE(message.find("listening") == std::string::npos, message);
    }
    fs::remove_all(dir);
}

TEST_CASE("a --database that is an unknown URL scheme or under a file stops the start naming it") {
    const fs::path dir = temp_dir("badpath");
    const fs::path cwd_folder = fs::current_path() / "nosuchdb:";
    const bool folder_was_there = fs::exists(cwd_folder);
    std::string message = refused_start({"--database", "nosuchdb://user:pw@db.example/jobs"});
    CHECK_MESSAGE(message.find("job database nosuchdb://user:***@db.example/jobs") != std::string::npos, message);
    CHECK_MESSAGE(message.find("pw@") == std::string::npos, message); // the password stays out of logs
    if (!folder_was_there) CHECK_FALSE(fs::exists(cwd_folder)); // no stray SQLite file under "nosuchdb:/"

    // A path whose folder is a regular file: refused by name, not after Poco's minute of retries.
    { std::ofstream(dir / "plain-file") << "x"; }
    const fs::path under_file = dir / "plain-file" / "jobs.db";
    message = refused_start({"--database", "sqlite:" + under_file.string()});
    CHECK_MESSAGE(message.find("job database SQLite " + under_file.string() + ": " + (dir / "plain-file").string()) !=
                      std::string::npos,
                  message);
    fs::remove_all(dir);
}

TEST_CASE("an --output-dir that is a file stops the start naming it (every job would fail at its write)") {
    const fs::path dir = temp_dir("outfile");
    { std::ofstream(dir / "not-a-folder") << "x"; }
    const std::string message = refused_start({"--output-dir", (dir / "not-a-folder").string()});
    CHECK_MESSAGE(message.find("job outputs " + (dir / "not-a-folder").string()) != std::string::npos, message);
    // A folder that does not exist yet is created, and the write probe leaves nothing behind.
    {
        host_process host({{"--output-dir", (dir / "new" / "outputs").string()}});
        CHECK(fs::is_directory(dir / "new" / "outputs"));
        CHECK(fs::is_empty(dir / "new" / "outputs"));
    }
    fs::remove_all(dir);
}

TEST_CASE("a read-only job database stops the start instead of a host that lists but refuses every job") {
    const fs::path dir = temp_dir("readonly");
    const fs::path db = dir / "jobs.db";
    const std::vector<std::string> args = {"--database", "sqlite:" + db.string(), "--output-dir", (dir / "outputs").string()};
    {
        host_process first({args}); // creates the schema
        CHECK(listed_total(first.port()) == 0);
    }
    // As root a mode of 0444 is no obstacle: the immutable attribute is (where the file system has it).
    ::chmod(db.c_str(), 0444);
    const bool root = ::geteuid() == 0;
    if (root) (void)std::system(("chattr +i '" + db.string() + "' 2>/dev/null").c_str());
    const int probe = ::open(db.c_str(), O_WRONLY);
    const bool read_only = probe < 0;
    if (probe >= 0) ::close(probe);
    if (!read_only) {
        MESSAGE("skipped: this file system lets us write a 0444 file and has no immutable attribute");
    } else {
        const std::string message = refused_start(args);
        CHECK_MESSAGE(message.find("job database SQLite " + db.string()) != std::string::npos, message);
        CHECK_MESSAGE(message.find("readonly") != std::string::npos, message);
    }
    if (root) (void)std::system(("chattr -i '" + db.string() + "' 2>/dev/null").c_str());
    ::chmod(db.c_str(), 0644);
    fs::remove_all(dir);
}

} // TEST_SUITE
