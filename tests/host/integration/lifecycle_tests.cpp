// The real omnihost binary with the real test plugin: every state transition and conflict, each
// generate endpoint's happy path, cancellation, failures, progress on the log WebSocket, SIGTERM.
#include <doctest/doctest.h>

#include <future>
#include <regex>
#include <thread>

#include <Poco/Base64Decoder.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/WebSocket.h>

#include "host_process.h"

using namespace omnihost_test;
using nlohmann::json;

namespace {

std::string decode_base64(const std::string &text) {
    std::istringstream in(text);
    Poco::Base64Decoder decoder(in);
    return std::string(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
}

json start_body(const std::string &model_type, json extra = json::object()) {
    json body = {{"model", "test/" + model_type + "-model"}, {"model_type", model_type}, {"run_mode", "subprocess"}};
    for (auto &[k, v] : extra.items()) body[k] = v;
    return body;
}

void start_ready(int port, const std::string &model_type, json extra = json::object()) {
    const auto started = post(port, "/api/omni/start", start_body(model_type, extra));
    REQUIRE_MESSAGE(started.status == 202, started.body);
    const json status = wait_for_state(port, "ready");
    REQUIRE_MESSAGE(status.value("state", "") == "ready", status.dump());
}

void stop_idle(int port) {
    const auto stopped = post(port, "/api/omni/stop", json::object());
    CHECK(stopped.status == 200);
    CHECK(stopped.json()["status"] == "stopped");
    CHECK(get(port, "/api/omni/status").json()["state"] == "idle");
}

} // namespace

TEST_SUITE("http_lifecycle") {

TEST_CASE("idle -> starting (with load progress) -> ready -> stopping -> idle, and the conflicts") {
    host_process host;
    const int port = host.port();
    auto status = get(port, "/api/omni/status");
    CHECK(status.status == 200);
    CHECK(status.headers["Cache-Control"] == "no-cache");
    json s = status.json();
    CHECK(s["state"] == "idle");
    CHECK(s["running"] == false);
    CHECK(s["ready"] == false);
    CHECK(s["model"].is_null());
    CHECK(s["job"].is_null());
    json health = get(port, "/api/omni/health").json();
    CHECK(health == json({{"success", false}, {"ready", false}, {"error", "Server not running"}}));
    CHECK(post(port, "/api/omni/stop", json::object()).status == 409);
    CHECK(post(port, "/api/omni/generate-video", {{"prompt", "x"}}).status == 503);

    auto started = post(port, "/api/omni/start", start_body("video", {{"test_load_ms", 1500}, {"test_load_steps", 15}}));
    REQUIRE_MESSAGE(started.status == 202, started.body);
    json reply = started.json();
    CHECK(reply["status"] == "starting");
    CHECK(reply["mode"] == "inprocess");
    CHECK(reply["plugin"] == "test_plugin");
    CHECK(reply["model_type"] == "video");

    // While loading: starting, progress visible, a second start and generations refused.
    bool saw_progress = false;
    for (int i = 0; i < 100 && !saw_progress; ++i) {
        s = get(port, "/api/omni/status").json();
        saw_progress = s["state"] == "starting" && s["load"].is_object() && s["load"]["phase"] == "load" &&
                       s["load"]["step"].get<int>() >= 1;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(saw_progress);
    CHECK(s["running"] == true);
    CHECK(s["ready"] == false);
    auto again = post(port, "/api/omni/start", start_body("video"));
    CHECK(again.status == 409);
    CHECK(again.json()["error"].get<std::string>().find("already running") != std::string::npos);
    auto early = post(port, "/api/omni/generate-video", {{"prompt", "x"}});
    CHECK(early.status == 503);
    CHECK(early.json()["success"] == false);
    CHECK(get(port, "/api/omni/health").json()["ready"] == false);

    s = wait_for_state(port, "ready");
    REQUIRE(s["state"] == "ready");
    CHECK(s["ready"] == true);
    CHECK(s["running"] == true);
    CHECK(s["run_mode"] == "inprocess");
    CHECK(s["plugin"] == "test_plugin");
    CHECK(s["model"] == "test/video-model");
    CHECK(s["load"].is_null());
    CHECK(std::regex_match(s["uptime"].get<std::string>(), std::regex(R"(\d+h \d+m \d+s)")));
    health = get(port, "/api/omni/health").json();
    CHECK(health["success"] == true);
    CHECK(health["ready"] == true);
    CHECK(post(port, "/api/omni/start", start_body("video")).status == 409);
    // The plugin's health answer shows up in /status once the health poll (about 1 s) has run.
    for (int i = 0; i < 150 && !s["health"].is_object(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        s = get(port, "/api/omni/status").json();
    }
    REQUIRE(s["health"].is_object());
    CHECK(s["health"]["ready"] == true);
    CHECK(s["health"]["failed"] == false);

    stop_idle(port);
    CHECK(post(port, "/api/omni/stop", json::object()).status == 409);
    // And again: a stopped slot starts anew.
    start_ready(port, "video");
    stop_idle(port);
}

TEST_CASE("generate endpoints: happy paths per modality and the modality refusals") {
    host_process host;
    const int port = host.port();

    start_ready(port, "video");
    auto video = post(port, "/api/omni/generate-video",
                      {{"prompt", "a red fox"}, {"height", 32}, {"width", 48}, {"duration", 1}, {"fps", 4},
                       {"num_inference_steps", 3}, {"seed", 7}, {"job_id", "my-job_1"}});
    REQUIRE_MESSAGE(video.status == 200, video.body);
    json v = video.json();
    CHECK(v["success"] == true);
    CHECK(v["error"].is_null());
    CHECK(v["job_id"] == "my-job_1");
    CHECK(v["mime_type"] == "video/x-yuv4mpeg");
    CHECK(v["generation_time"].get<double>() >= 0);
    CHECK(decode_base64(v["video_base64"].get<std::string>()).rfind("YUV4MPEG2 W48 H32", 0) == 0);
    CHECK(v["duration"].is_number());
    CHECK(v["metadata"].is_object());
    for (const char *endpoint : {"/api/omni/generate-audio", "/api/omni/generate-tts"}) {
        auto refused = post(port, endpoint, {{"text", "hello"}});
        CHECK(refused.status == 409);
        CHECK(refused.json()["error"].get<std::string>().rfind("In-process model is not a", 0) == 0);
    }
    auto wrong = post(port, "/api/omni/generate-audio", {{"text", "hello"}});
    CHECK(wrong.json()["error"].get<std::string>().rfind("In-process model is not an audio model", 0) == 0);
    CHECK(post(port, "/api/omni/generate", {{"prompt", "x"}}).json()["error"].get<std::string>().rfind(
              "In-process model is not an image model", 0) == 0);
    stop_idle(port);

    start_ready(port, "audio");
    auto audio = post(port, "/api/omni/generate-audio", {{"text", "rain on a roof"}, {"audio_duration", 0.5}});
    REQUIRE_MESSAGE(audio.status == 200, audio.body);
    json a = audio.json();
    CHECK(a["audio_format"] == "audio/wav");
    CHECK(decode_base64(a["audio_base64"].get<std::string>()).rfind("RIFF", 0) == 0);
    CHECK(post(port, "/api/omni/generate-video", {{"prompt", "x"}}).json()["error"].get<std::string>().rfind(
              "In-process model is not a video model", 0) == 0);
    stop_idle(port);

    start_ready(port, "image");
    auto image = post(port, "/api/omni/generate", {{"prompt", "a lighthouse"}, {"width", 64}, {"height", 64}});
    REQUIRE_MESSAGE(image.status == 200, image.body);
    CHECK(decode_base64(image.json()["image_base64"].get<std::string>()).substr(1, 3) == "PNG");
    stop_idle(port);

    start_ready(port, "tts");
    auto tts = post(port, "/api/omni/generate-tts", {{"text", "hello there"}, {"voice", "Ryan"}, {"speed", 1.25}});
    REQUIRE_MESSAGE(tts.status == 200, tts.body);
    CHECK(tts.json()["audio_format"] == "audio/wav");
    stop_idle(port);

    start_ready(port, "omni");
    auto chat = http(port, "POST", "/api/omni/chat",
                     json({{"messages", {{{"role", "user"}, {"content", "ping pong"}}}}}).dump());
    REQUIRE_MESSAGE(chat.status == 200, chat.body);
    CHECK(chat.headers["Content-Type"].rfind("text/event-stream", 0) == 0);
    CHECK(chat.body.find("data: {\"text\":\"test_plugin \"}") != std::string::npos);
    CHECK(chat.body.find("pong") != std::string::npos);
    CHECK(chat.body.size() >= 14);
    CHECK(chat.body.substr(chat.body.size() - 14) == "data: [DONE]\n\n");
    stop_idle(port);
}

TEST_CASE("playground chat sent while another chat streams waits its turn, then streams; a full queue is 429") {
    host_process host({.extra_args = {"--queue-depth", "1"}});
    const int port = host.port();
    start_ready(port, "omni");
    using mono_clock = std::chrono::steady_clock;
    // 11 streamed words, 500 ms each: the first chat holds the slot for over 5 s.
    const auto first_sent = mono_clock::now();
    auto first = std::async(std::launch::async, [port] {
        return http(port, "POST", "/api/omni/chat",
                    json({{"messages", {{{"role", "user"}, {"content", "one two three four five six seven eight"}}}},
                          {"test_step_ms", 500}}).dump());
    });
    json s;
    for (const auto deadline = mono_clock::now() + std::chrono::seconds(20); mono_clock::now() < deadline;) {
        s = get(port, "/api/omni/status").json();
        if (s["job"].is_object()) break;
    }
    REQUIRE_MESSAGE(s["job"].is_object(), s.dump());
    // Sent while the first streams: it used to be refused with 409 busy; now it waits in the queue.
    auto second = std::async(std::launch::async, [port] {
        auto r = http(port, "POST", "/api/omni/chat", json({{"messages", {{{"role", "user"}, {"content", "second"}}}}}).dump());
        return std::make_pair(r, mono_clock::now());
    });
    bool waiting = false;
    for (const auto deadline = mono_clock::now() + std::chrono::seconds(20); mono_clock::now() < deadline && !waiting;)
        waiting = host.log_text().find("waits its turn") != std::string::npos;
    REQUIRE(waiting);
    // The second holds the one place of --queue-depth 1: a third is refused, with Retry-After.
    auto third = http(port, "POST", "/api/omni/chat", json({{"messages", {{{"role", "user"}, {"content", "third"}}}}}).dump());
    CHECK(third.status == 429);
    CHECK(third.json()["error"].is_string());
    CHECK(std::stoi(third.headers.at("Retry-After")) >= 1);
    const auto a = first.get();
    const auto [b, b_done] = second.get();
    REQUIRE_MESSAGE(a.status == 200, a.body);
    CHECK(a.body.find("eight") != std::string::npos);
    REQUIRE_MESSAGE(b.status == 200, b.body);
    CHECK(b.headers.at("Content-Type").rfind("text/event-stream", 0) == 0);
    CHECK(b.body.find("second") != std::string::npos);
    CHECK(b.body.find("\"error\"") == std::string::npos);
    CHECK(b.body.substr(b.body.size() - 14) == "data: [DONE]\n\n");
    // It ran after the first let the slot go: the first streamed for at least 10 pauses of 500 ms.
    CHECK(b_done - first_sent >= std::chrono::milliseconds(10 * 500));
}

TEST_CASE("one generation at a time; status answers during it; cancel by job id") {
    host_process host;
    const int port = host.port();
    start_ready(port, "video");
    auto long_run = std::async(std::launch::async, [port] {
        return post(port, "/api/omni/generate-video",
                    {{"prompt", "slow"}, {"test_steps", 400}, {"test_step_ms", 25}, {"job_id", "long-job"}});
    });
    json s;
    for (int i = 0; i < 200; ++i) {
        s = get(port, "/api/omni/status").json();
        if (s["job"].is_object() && s["job"]["step"].get<int>() >= 2) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(s["job"].is_object());
    CHECK(s["job"]["id"] == "long-job");
    CHECK(s["job"]["task"] == "video");
    CHECK(s["job"]["phase"] == "denoise");
    CHECK(s["job"]["total"] == 400);
    CHECK(s["job"]["started_at"].get<std::string>().back() == 'Z');
    // One generation at a time: a second request waits in the job queue while the first runs.
    auto second = std::async(std::launch::async, [port] {
        return post(port, "/api/omni/generate-video", {{"prompt", "second"}, {"job_id", "second-job"}});
    });
    json queued;
    for (int i = 0; i < 500; ++i) {
        queued = get(port, "/api/jobs/second-job").json();
        if (queued.is_object() && queued.value("state", "") == "queued") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(queued["state"] == "queued");
    CHECK(queued["position"] == 1);
    CHECK(post(port, "/api/omni/cancel", {{"job_id", "other-job"}}).status == 404);
    auto cancelled = post(port, "/api/omni/cancel", {{"job_id", "long-job"}});
    CHECK(cancelled.status == 200);
    CHECK(cancelled.json() == json({{"cancelled", true}, {"job_id", "long-job"}}));
    const http_result finished = long_run.get();
    CHECK(finished.status == 409);
    CHECK(finished.json()["cancelled"] == true);
    CHECK(finished.json()["error"] == "cancelled");
    CHECK(second.get().status == 200); // it ran once the first was cancelled
    s = get(port, "/api/omni/status").json();
    CHECK(s["state"] == "ready");
    CHECK(s["job"].is_null());
    CHECK(post(port, "/api/omni/cancel", json::object()).status == 404);
    // The model still works after a cancel.
    CHECK(post(port, "/api/omni/generate-video", {{"prompt", "after"}}).status == 200);
}

TEST_CASE("stop during a generation cancels it; stop during a load cancels the load") {
    host_process host;
    const int port = host.port();
    start_ready(port, "video");
    auto long_run = std::async(std::launch::async, [port] {
        return post(port, "/api/omni/generate-video", {{"prompt", "slow"}, {"test_steps", 1000}, {"test_step_ms", 20}});
    });
    for (int i = 0; i < 200 && get(port, "/api/omni/status").json()["job"].is_null(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    stop_idle(port);
    CHECK(long_run.get().json()["cancelled"] == true);

    REQUIRE(post(port, "/api/omni/start", start_body("video", {{"test_load_ms", 60000}, {"test_load_steps", 6000}})).status == 202);
    CHECK(wait_for_state(port, "starting")["state"] == "starting");
    const auto t0 = std::chrono::steady_clock::now();
    stop_idle(port);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
}

TEST_CASE("failures: start error -> failed(reason); plugin errors map to statuses; backend death") {
    host_process host;
    const int port = host.port();
    REQUIRE(post(port, "/api/omni/start", start_body("video", {{"test_fail_start", "weights are missing"}})).status == 202);
    json s = wait_for_state(port, "failed");
    REQUIRE(s["state"] == "failed");
    CHECK(s["error"].get<std::string>().find("weights are missing") != std::string::npos);
    CHECK(s["running"] == false);
    json health = get(port, "/api/omni/health").json();
    CHECK(health["success"] == false);
    CHECK(health["error"].get<std::string>().find("weights are missing") != std::string::npos);
    CHECK(post(port, "/api/omni/generate-video", {{"prompt", "x"}}).status == 503);
    // failed -> starting directly is allowed.
    start_ready(port, "video");

    auto boom = post(port, "/api/omni/generate-video", {{"prompt", "x"}, {"test_fail", "decoder exploded"}});
    CHECK(boom.status == 500);
    CHECK(boom.json()["success"] == false);
    CHECK(boom.json()["error"].get<std::string>().find("decoder exploded") != std::string::npos);
    auto oom = post(port, "/api/omni/generate-video", {{"prompt", "x"}, {"test_oom", true}});
    CHECK(oom.status == 507);
    CHECK(get(port, "/api/omni/status").json()["state"] == "ready");
    stop_idle(port);

    // The backend dies after it became ready: the health poll turns the slot failed.
    start_ready(port, "video", {{"test_fail_after_ms", 300}});
    s = wait_for_state(port, "failed", 10);
    REQUIRE(s["state"] == "failed");
    CHECK(s["error"].get<std::string>().find("died") != std::string::npos);
    CHECK(post(port, "/api/omni/stop", json::object()).status == 200);
    CHECK(get(port, "/api/omni/status").json()["state"] == "idle");
}

TEST_CASE("routing by manifest: container video refused with the manifest's reason; recipe start") {
    host_process host;
    const int port = host.port();
    auto refused = post(port, "/api/omni/start", start_body("video", {{"run_mode", "container"}}));
    CHECK(refused.status == 400);
    CHECK(refused.json()["field"] == "run_mode");
    CHECK(refused.json()["error"].get<std::string>().find("container mode is not available") != std::string::npos);
    auto no_route = post(port, "/api/omni/start", start_body("audio", {{"run_mode", "remote"}, {"remote_url", "http://127.0.0.1:9"}}));
    CHECK(no_route.status == 400);
    CHECK(no_route.json()["field"] == "run_mode");

    // The embedded default: the demo recipe alone is a valid start.
    auto demo = post(port, "/api/omni/start", {{"recipe", "demo-wan-tiny"}});
    REQUIRE_MESSAGE(demo.status == 202, demo.body);
    CHECK(demo.json()["recipe"] == "demo-wan-tiny");
    // The answer names the model as the recipe does, not by its path under --data-dir.
    const std::string model = demo.json()["model"];
    CHECK(model == "models/wan-tiny-demo");
    CHECK(demo.body.find(host.temp_dir().string()) == std::string::npos);
    json s = wait_for_state(port, "ready");
    CHECK(s["recipe"] == "demo-wan-tiny");
    CHECK(s["model"] == model);
    CHECK(s.dump().find(host.temp_dir().string()) == std::string::npos);
    CHECK(s["model_type"] == "video");
    // The recipe's generation defaults (64x64, 1 s at 8 fps) fill a bare request.
    auto video = post(port, "/api/omni/generate-video", {{"prompt", "demo"}});
    REQUIRE_MESSAGE(video.status == 200, video.body);
    CHECK(decode_base64(video.json()["video_base64"].get<std::string>()).rfind("YUV4MPEG2 W64 H64 F8:1", 0) == 0);
    stop_idle(port);

    // The UI sends the recipe's model id with the recipe id: still resolved under --data-dir.
    auto from_ui = post(port, "/api/omni/start", {{"recipe", "demo-wan-tiny"}, {"model", "models/wan-tiny-demo"},
                                                 {"model_type", "video"}, {"run_mode", "subprocess"}});
    REQUIRE_MESSAGE(from_ui.status == 202, from_ui.body);
    CHECK(from_ui.json()["model"] == model);
    wait_for_state(port, "ready");
    stop_idle(port);
}

TEST_CASE("progress frames of a job reach the log WebSocket, tagged with the job id") {
    host_process host;
    const int port = host.port();
    start_ready(port, "video");
    REQUIRE(post(port, "/api/omni/generate-video", {{"prompt", "x"}, {"test_steps", 3}, {"job_id", "ws-job"}}).status == 200);
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/ws/omni/logs", Poco::Net::HTTPMessage::HTTP_1_1);
    Poco::Net::HTTPResponse response;
    Poco::Net::WebSocket ws(session, request, response);
    ws.setReceiveTimeout(Poco::Timespan(5, 0));
    int progress_frames = 0;
    bool saw_lifecycle = false;
    char buffer[65536];
    for (int i = 0; i < 500; ++i) {
        int flags = 0;
        int n = 0;
        try {
            n = ws.receiveFrame(buffer, sizeof buffer, flags);
        } catch (const Poco::TimeoutException &) {
            break;
        }
        if (n <= 0) break;
        const json frame = json::parse(std::string(buffer, static_cast<size_t>(n)), nullptr, false);
        if (!frame.is_object()) continue;
        if (frame["type"] == "progress" && frame["job_id"] == "ws-job") {
            ++progress_frames;
            CHECK(frame["phase"] == "denoise");
            CHECK(frame["total"] == 3);
        }
        if (frame["type"] == "log" && frame["message"].get<std::string>().find("is ready") != std::string::npos)
            saw_lifecycle = true;
        if (progress_frames >= 3 && saw_lifecycle) break;
    }
    CHECK(progress_frames >= 3);
    CHECK(saw_lifecycle);
    ws.close();
}

TEST_CASE("SIGTERM during a generation shuts down cleanly and promptly") {
    host_process host;
    const int port = host.port();
    start_ready(port, "video");
    auto long_run = std::async(std::launch::async, [port] {
        try {
            return post(port, "/api/omni/generate-video", {{"prompt", "x"}, {"test_steps", 100000}, {"test_step_ms", 10}}).status;
        } catch (...) {
            return -1; // the connection may be dropped during shutdown
        }
    });
    for (int i = 0; i < 200 && get(port, "/api/omni/status").json()["job"].is_null(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(host.terminate(30) == 0);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(25));
    const int status = long_run.get();
    CHECK((status == 409 || status == -1 || status == 503));
    const std::string log = host.log_text();
    CHECK(log.find("shutting down") != std::string::npos);
    CHECK(log.find("model stopped") != std::string::npos);
}

}

TEST_SUITE("http_lifecycle") {

TEST_CASE("a port already in use is an error naming it, not a shared port") {
    host_process first;
    bool refused = false;
    try {
        host_process second({.extra_args = {"--port", std::to_string(first.port())}});
    } catch (const std::exception &e) {
        refused = std::string(e.what()).find("cannot listen on 127.0.0.1:" + std::to_string(first.port())) != std::string::npos;
    }
    CHECK(refused);
    CHECK(get(first.port(), "/api/omni/status").status == 200);
}

}
