// Faults in the slot, against the real binary and the real test plugin: a generation that ignores
// its cancel and a stop that hangs are failed within their deadlines while the API keeps
// answering; a client that hangs up cancels its job; SIGTERM under a stuck generation exits.
#include <doctest/doctest.h>

#include <future>
#include <thread>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include "host_process.h"

using namespace omnihost_test;
using nlohmann::json;
using mono_clock = std::chrono::steady_clock;

namespace {

// Short deadlines so the tests take seconds; the defaults are 30 s.
host_config short_deadlines() { return {.extra_args = {"--cancel-deadline-s", "1", "--stop-deadline-s", "1"}}; }

void start_ready(int port, json extra = json::object()) {
    json body = {{"model", "test/image-model"}, {"model_type", "image"}, {"run_mode", "subprocess"}};
    for (auto &[k, v] : extra.items()) body[k] = v;
    const auto started = post(port, "/api/omni/start", body);
    REQUIRE_MESSAGE(started.status == 202, started.body);
    const json status = wait_for_state(port, "ready");
    REQUIRE_MESSAGE(status.value("state", "") == "ready", status.dump());
}

// Polls status until `done(status)`; every poll must itself be answered promptly.
json poll_status(int port, const std::function<bool(const json &)> &done, double seconds, double *slowest = nullptr) {
    json last;
    const auto end = mono_clock::now() + std::chrono::duration<double>(seconds);
    while (mono_clock::now() < end) {
        const auto t0 = mono_clock::now();
        const http_result reply = get(port, "/api/omni/status");
        const double took = std::chrono::duration<double>(mono_clock::now() - t0).count();
        if (slowest) *slowest = std::max(*slowest, took);
        last = reply.json();
        if (reply.status == 200 && last.is_object() && done(last)) return last;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return last;
}

bool job_running(const json &status) { return status.contains("job") && status["job"].is_object(); }

// The job's call is inside the plugin (it reported progress): a cancel now reaches the plugin,
// not a job still queued (which the slot ends itself, "cancelled before it began").
bool job_in_plugin(const json &status) {
    return job_running(status) && !status["job"].value("phase", "").empty();
}

std::future<http_result> generate_async(int port, json body) {
    return std::async(std::launch::async, [port, body] {
        try {
            return post(port, "/api/omni/generate", body);
        } catch (...) {
            return http_result{-1, "", {}}; // dropped at shutdown
        }
    });
}

} // namespace

TEST_SUITE("http_faults") {

TEST_CASE("a generation that ignores its cancel is failed within the deadline; status keeps answering") {
    host_process host(short_deadlines());
    const int port = host.port();
    start_ready(port);
    auto stuck = generate_async(port, {{"prompt", "x"}, {"job_id", "deaf-1"}, {"test_hang_ms", 600000}});
    REQUIRE(job_in_plugin(poll_status(port, job_in_plugin, 10)));
    const auto cancelled_at = mono_clock::now();
    const http_result cancel = post(port, "/api/omni/cancel", {{"job_id", "deaf-1"}});
    CHECK_MESSAGE(cancel.status == 200, cancel.body);
    double slowest = 0;
    const json failed = poll_status(port, [](const json &s) { return s.value("state", "") == "failed"; }, 15, &slowest);
    const double took = std::chrono::duration<double>(mono_clock::now() - cancelled_at).count();
    REQUIRE_MESSAGE(failed.value("state", "") == "failed", failed.dump());
    CHECK(took < 8); // the deadline is 1 s; generous room for a loaded machine
    CHECK(slowest < 2);
    const std::string error = failed.dump();
    CHECK(error.find("ignored its cancel for 1 s") != std::string::npos);
    CHECK(error.find("abandoned") != std::string::npos);
    // The waiting client got an answer naming the reason.
    REQUIRE(stuck.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    const http_result answer = stuck.get();
    CHECK(answer.status == 503);
    CHECK(answer.body.find("ignored its cancel") != std::string::npos);
    // The rest of the API serves: health, stop, and a new model on a fresh instance.
    CHECK(get(port, "/api/omni/health").status == 200);
    CHECK(post(port, "/api/omni/stop", json::object()).status == 200);
    start_ready(port);
    const http_result image = post(port, "/api/omni/generate", {{"prompt", "after"}});
    CHECK_MESSAGE(image.status == 200, image.body);
    // Shutdown with the abandoned thread still asleep inside the plugin exits cleanly.
    CHECK(host.terminate(20) == 0);
    CHECK(host.log_text().find("abandoned rather than destroyed") != std::string::npos);
}

TEST_CASE("a health() stuck in the plugin does not hold up abandoning a stuck generation, nor the exit") {
    host_process host(short_deadlines());
    const int port = host.port();
    start_ready(port, {{"test_health_hang_ms", 600000}});
    // The health poll is now inside the plugin for 10 minutes.
    const auto hung_until = mono_clock::now() + std::chrono::seconds(15);
    while (host.log_text().find("test_health_hang_ms: health hangs") == std::string::npos && mono_clock::now() < hung_until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20)); // poll interval
    REQUIRE(host.log_text().find("test_health_hang_ms: health hangs") != std::string::npos);
    auto stuck = generate_async(port, {{"prompt", "x"}, {"job_id", "deaf-2"}, {"test_hang_ms", 600000}});
    REQUIRE(job_in_plugin(poll_status(port, job_in_plugin, 10)));
    CHECK(post(port, "/api/omni/cancel", {{"job_id", "deaf-2"}}).status == 200);
    // Abandoning the generation used to wait for the lock the stuck health() held.
    double slowest = 0;
    const json failed = poll_status(port, [](const json &s) { return s.value("state", "") == "failed"; }, 15, &slowest);
    REQUIRE_MESSAGE(failed.value("state", "") == "failed", failed.dump());
    CHECK(slowest < 2);
    REQUIRE(stuck.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(stuck.get().status == 503);
    // The host exits although health() still sleeps: shutdown lets that thread go at its deadline.
    CHECK(host.terminate(40) == 0);
    CHECK(host.log_text().find("plugin health was still running") != std::string::npos);
}

TEST_CASE("a stop that hangs is failed within the stop deadline; a new start is served") {
    host_process host(short_deadlines());
    const int port = host.port();
    start_ready(port, {{"test_stop_hang_ms", 600000}});
    const auto t0 = mono_clock::now();
    const http_result stop = post(port, "/api/omni/stop", json::object());
    CHECK((stop.status == 200 || stop.status == 202));
    double slowest = 0;
    const json failed = poll_status(port, [](const json &s) { return s.value("state", "") == "failed"; }, 15, &slowest);
    REQUIRE_MESSAGE(failed.value("state", "") == "failed", failed.dump());
    CHECK(std::chrono::duration<double>(mono_clock::now() - t0).count() < 8);
    CHECK(slowest < 2);
    CHECK(failed.dump().find("plugin stop did not return within 1 s") != std::string::npos);
    start_ready(port);
    CHECK(post(port, "/api/omni/generate", {{"prompt", "x"}}).status == 200);
    CHECK(host.terminate(20) == 0);
}

TEST_CASE("a client that disconnects cancels its synchronous generation") {
    host_process host;
    const int port = host.port();
    start_ready(port);
    {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        Poco::Net::HTTPRequest request("POST", "/api/omni/generate", Poco::Net::HTTPMessage::HTTP_1_1);
        const std::string body = json({{"prompt", "x"}, {"job_id", "gone-1"}, {"test_steps", 100000},
                                       {"test_step_ms", 20}}).dump();
        request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(body.size()));
        std::ostream &out = session.sendRequest(request);
        out << body;
        out.flush(); // on the wire now; nobody will read the answer
        REQUIRE(job_in_plugin(poll_status(port, job_in_plugin, 10)));
        session.reset(); // hang up without reading the answer
    }
    // The job ends (it would run ~2000 s otherwise) and the plugin itself saw the cancel.
    const json after = poll_status(port, [](const json &s) {
        return !job_running(s) && s.contains("health") && s["health"].is_object() &&
               s["health"].value("cancels_seen", 0) == 1;
    }, 15);
    CHECK_MESSAGE(!job_running(after), after.dump());
    CHECK_MESSAGE(after["health"].value("cancels_seen", 0) == 1, after.dump());
    CHECK(after.value("state", "") == "ready"); // a cancelled job leaves the model loaded
    CHECK(host.log_text().find("job gone-1: the client disconnected; cancelling it") != std::string::npos);
    CHECK(post(port, "/api/omni/generate", {{"prompt", "next"}}).status == 200);
}

TEST_CASE("a client that hangs up on the SSE chat stream cancels the rest of it") {
    host_process host;
    const int port = host.port();
    const auto started = post(port, "/api/omni/start",
                              {{"model", "test/omni-model"}, {"model_type", "omni"}, {"run_mode", "subprocess"}});
    REQUIRE_MESSAGE(started.status == 202, started.body);
    REQUIRE(wait_for_state(port, "ready").value("state", "") == "ready");
    {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        Poco::Net::HTTPRequest request("POST", "/api/omni/chat", Poco::Net::HTTPMessage::HTTP_1_1);
        // Four words, 3 s apart: ~12 s if nobody cancels; the plugin checks cancel between words.
        const std::string body = json({{"messages", {{{"role", "user"}, {"content", "hi"}}}},
                                       {"job_id", "chat-gone-1"}, {"test_step_ms", 3000}}).dump();
        request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(body.size()));
        std::ostream &out = session.sendRequest(request);
        out << body;
        out.flush();
        // The first word arrives at once: the plugin is streaming. Then hang up.
        Poco::Net::HTTPResponse response;
        std::istream &in = session.receiveResponse(response);
        CHECK(response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK);
        std::string line;
        while (std::getline(in, line) && line.rfind("data: ", 0) != 0) {
        }
        CHECK(line.find("test_plugin") != std::string::npos);
        session.reset();
    }
    const json after = poll_status(port, [](const json &s) {
        return !job_running(s) && s.contains("health") && s["health"].is_object() &&
               s["health"].value("cancels_seen", 0) == 1;
    }, 15);
    CHECK_MESSAGE(after["health"].value("cancels_seen", 0) == 1, after.dump());
    CHECK(host.log_text().find("job chat-gone-1: the client disconnected; cancelling it") != std::string::npos);
}

TEST_CASE("SIGTERM under a generation that ignores cancel exits cleanly, without destroying it") {
    host_process host(short_deadlines());
    const int port = host.port();
    start_ready(port);
    auto stuck = generate_async(port, {{"prompt", "x"}, {"test_hang_ms", 600000}});
    REQUIRE(job_in_plugin(poll_status(port, job_in_plugin, 10)));
    const auto t0 = mono_clock::now();
    CHECK(host.terminate(20) == 0); // exit status 0: no crash, no kill
    CHECK(std::chrono::duration<double>(mono_clock::now() - t0).count() < 15);
    REQUIRE(stuck.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    const int status = stuck.get().status;
    CHECK((status == 503 || status == -1));
    const std::string log = host.log_text();
    CHECK(log.find("plugin generate ignored its cancel for 1 s") != std::string::npos);
    CHECK(log.find("bye") != std::string::npos);
}

}
