// At least 40 distinct malformed requests against the real host, each answered 4xx with a message
// (and the field, when one field is at fault); the host keeps serving afterwards.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "host_process.h"

using namespace omnihost_test;
using nlohmann::json;

namespace {

struct malformed_case {
    const char *what;
    const char *method;
    const char *path;
    std::string body;  // sent verbatim
    int status;        // expected exact status
    const char *field; // expected "field" ("" = not checked)
};

std::string j(const json &value) { return value.dump(); }

json video_start(json extra = json::object()) {
    json body = {{"model", "test/video"}, {"model_type", "video"}, {"run_mode", "subprocess"}};
    for (auto &[k, v] : extra.items()) body[k] = v;
    return body;
}

} // namespace

TEST_SUITE("http_malformed") {

TEST_CASE("malformed requests: 4xx with a message naming the field; the host survives") {
    host_process host({.extra_args = {"--max-body-bytes", "65536"}});
    const int port = host.port();

    // The start/preview checks run while idle; the generate checks need a ready video model, so
    // those run after a start (below).
    const std::vector<malformed_case> idle_cases = {
        {"start: invalid JSON", "POST", "/api/omni/start", "{\"model\":", 400, "body"},
        {"start: array body", "POST", "/api/omni/start", "[1,2]", 400, "body"},
        {"start: empty body", "POST", "/api/omni/start", "", 400, "body"},
        {"start: string body", "POST", "/api/omni/start", "\"video\"", 400, "body"},
        {"start: invalid UTF-8", "POST", "/api/omni/start", "{\"model\":\"\xff\xfe\"}", 400, "body"},
        {"start: unknown model_type", "POST", "/api/omni/start", j(video_start({{"model_type", "music"}})), 400, "model_type"},
        {"start: run_mode inprocess is derived, never accepted", "POST", "/api/omni/start", j(video_start({{"run_mode", "inprocess"}})), 400, "run_mode"},
        {"start: model_type missing", "POST", "/api/omni/start", j({{"model", "a/b"}}), 400, "model_type"},
        {"start: model missing", "POST", "/api/omni/start", j({{"model_type", "video"}}), 400, "model"},
        {"start: model a number", "POST", "/api/omni/start", j(video_start({{"model", 42}})), 400, "model"},
        {"start: model with shell characters", "POST", "/api/omni/start", j(video_start({{"model", "a; rm -rf /"}})), 400, "model"},
        {"start: port a string", "POST", "/api/omni/start", j(video_start({{"port", "8000"}})), 400, "port"},
        {"start: port 0", "POST", "/api/omni/start", j(video_start({{"port", 0}})), 400, "port"},
        {"start: port 70000", "POST", "/api/omni/start", j(video_start({{"port", 70000}})), 400, "port"},
        {"start: tensor_parallel_size 0", "POST", "/api/omni/start", j(video_start({{"tensor_parallel_size", 0}})), 400, "tensor_parallel_size"},
        {"start: gpu_memory_utilization 1.5", "POST", "/api/omni/start", j(video_start({{"gpu_memory_utilization", 1.5}})), 400, "gpu_memory_utilization"},
        {"start: unknown field", "POST", "/api/omni/start", j(video_start({{"modle", "x"}})), 400, "modle"},
        {"start: unknown recipe", "POST", "/api/omni/start", j({{"recipe", "no-such-recipe"}}), 400, "recipe"},
        {"start: recipe a number", "POST", "/api/omni/start", j({{"recipe", 5}}), 400, "recipe"},
        {"start: container mode for a video model", "POST", "/api/omni/start", j(video_start({{"run_mode", "container"}})), 400, "run_mode"},
        {"start: remote_url not http", "POST", "/api/omni/start", j({{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "remote"}, {"remote_url", "ftp://x"}}), 400, "remote_url"},
        {"start: gpu_device letters", "POST", "/api/omni/start", j(video_start({{"gpu_device", "gpu0"}})), 400, "gpu_device"},
        {"start: accelerator unknown", "POST", "/api/omni/start", j(video_start({{"accelerator", "intel"}})), 400, "accelerator"},
        {"start: enable_cpu_offload a string", "POST", "/api/omni/start", j(video_start({{"enable_cpu_offload", "yes"}})), 400, "enable_cpu_offload"},
        {"start: dtype unknown", "POST", "/api/omni/start", j(video_start({{"dtype", "int3"}})), 400, "dtype"},
        {"start: device unknown", "POST", "/api/omni/start", j(video_start({{"device", "tpu"}})), 400, "device"},
        {"start: threads negative", "POST", "/api/omni/start", j(video_start({{"threads", -1}})), 400, "threads"},
        {"start: flow_shift negative", "POST", "/api/omni/start", j(video_start({{"flow_shift", -2.0}})), 400, "flow_shift"},
        {"start: plugin knob over the manifest's max", "POST", "/api/omni/start", j(video_start({{"test_load_ms", 600001}})), 400, "test_load_ms"},
        {"start: body over --max-body-bytes", "POST", "/api/omni/start", std::string(70000, ' '), 413, "body"},
        {"preview: invalid JSON", "POST", "/api/omni/command-preview", "nope", 400, "body"},
        {"preview: unknown model_type", "POST", "/api/omni/command-preview", j(video_start({{"model_type", "3d"}})), 400, "model_type"},
        {"cancel: job_id a number", "POST", "/api/omni/cancel", j({{"job_id", 7}}), 400, "job_id"},
        {"cancel: unknown field", "POST", "/api/omni/cancel", j({{"job", "x"}}), 400, "job"},
        {"cancel: job_id with a slash", "POST", "/api/omni/cancel", j({{"job_id", "a/b"}}), 400, "job_id"},
        {"GET on a POST endpoint", "GET", "/api/omni/start", "", 405, ""},
        {"POST on a GET endpoint", "POST", "/api/omni/status", "{}", 405, ""},
        {"DELETE on stop", "DELETE", "/api/omni/stop", "", 405, ""},
        {"unknown API path", "GET", "/api/omni/does-not-exist", "", 404, ""},
        {"unknown WebSocket path", "GET", "/ws/omni/other", "", 404, ""},
        {"generate while idle", "POST", "/api/omni/generate-video", j({{"prompt", "x"}}), 503, ""},
    };

    const std::vector<malformed_case> ready_cases = {
        {"video: invalid JSON", "POST", "/api/omni/generate-video", "{prompt:1}", 400, "body"},
        {"video: prompt missing", "POST", "/api/omni/generate-video", j({{"fps", 8}}), 400, "prompt"},
        {"video: prompt blank", "POST", "/api/omni/generate-video", j({{"prompt", "   "}}), 400, "prompt"},
        {"video: prompt a number", "POST", "/api/omni/generate-video", j({{"prompt", 3}}), 400, "prompt"},
        {"video: prompt null", "POST", "/api/omni/generate-video", j({{"prompt", nullptr}}), 400, "prompt"},
        {"video: height a string", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"height", "64"}}), 400, "height"},
        {"video: width 0", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"width", 0}}), 400, "width"},
        {"video: width above the plugin's max", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"width", 4096}}), 400, "width"},
        {"video: fps 1000", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"fps", 1000}}), 400, "fps"},
        {"video: duration 0", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"duration", 0}}), 400, "duration"},
        {"video: steps above the manifest's 50", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"num_inference_steps", 51}}), 400, "num_inference_steps"},
        {"video: guidance a word", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"guidance_scale", "high"}}), 400, "guidance_scale"},
        {"video: negative seed", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"seed", -5}}), 400, "seed"},
        {"video: fractional seed", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"seed", 1.5}}), 400, "seed"},
        {"video: job_id with a space", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"job_id", "a b"}}), 400, "job_id"},
        {"video: job_id too long", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"job_id", std::string(65, 'a')}}), 400, "job_id"},
        {"video: unknown field", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"heigth", 64}}), 400, "heigth"},
        {"video: task of another endpoint", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"task", "audio"}}), 400, "task"},
        {"video: negative_prompt an array", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"negative_prompt", {"a"}}}), 400, "negative_prompt"},
        {"video: plugin knob of the wrong type", "POST", "/api/omni/generate-video", j({{"prompt", "x"}, {"test_oom", "yes"}}), 400, "test_oom"},
        {"audio endpoint on a video model", "POST", "/api/omni/generate-audio", j({{"text", "x"}}), 409, ""},
        {"tts endpoint on a video model", "POST", "/api/omni/generate-tts", j({{"text", "x"}}), 409, ""},
        {"image endpoint on a video model", "POST", "/api/omni/generate", j({{"prompt", "x"}}), 409, ""},
        {"chat endpoint on a video model", "POST", "/api/omni/chat", j({{"messages", {{{"role", "user"}, {"content", "hi"}}}}}), 409, ""},
        {"start while ready", "POST", "/api/omni/start", j(video_start()), 409, ""},
        {"cancel with no job running", "POST", "/api/omni/cancel", "{}", 404, ""},
    };

    auto run = [&](const std::vector<malformed_case> &cases) {
        for (const auto &c : cases) {
            CAPTURE(c.what);
            const http_result r = http(port, c.method, c.path, c.body);
            CHECK(r.status == c.status);
            const json body = r.json();
            REQUIRE_MESSAGE(body.is_object(), r.body);
            CHECK(body["success"] == false);
            CHECK(body["error"].is_string());
            CHECK(body["error"].get<std::string>().size() > 3);
            if (*c.field) {
                CHECK(body.value("field", "") == c.field);
                if (std::string(c.field) != "body")
                    CHECK(body["error"].get<std::string>().find(c.field) != std::string::npos);
            }
            if (c.status == 405) CHECK(!r.headers.at("Allow").empty());
        }
    };
    run(idle_cases);
    CHECK(get(port, "/api/omni/status").json()["state"] == "idle"); // nothing above started anything

    REQUIRE(post(port, "/api/omni/start", video_start()).status == 202);
    REQUIRE(wait_for_state(port, "ready")["state"] == "ready");
    run(ready_cases);
    CHECK(idle_cases.size() + ready_cases.size() >= 60);

    // Still serving, and still generating.
    const http_result status = get(port, "/api/omni/status");
    CHECK(status.status == 200);
    CHECK(status.json()["state"] == "ready");
    CHECK(post(port, "/api/omni/generate-video", {{"prompt", "still works"}}).status == 200);
}

TEST_CASE("chat message checks name the message") {
    host_process host;
    const int port = host.port();
    REQUIRE(post(port, "/api/omni/start", {{"model", "t/omni"}, {"model_type", "omni"}}).status == 202);
    REQUIRE(wait_for_state(port, "ready")["state"] == "ready");
    const std::vector<std::pair<json, std::string>> cases = {
        {{{"messages", json::array()}}, "messages: must hold between 1 and 512 items"},
        {{{"messages", "hi"}}, "messages: must be an array"},
        {{{"messages", {1}}}, "messages[0]: must be an object"},
        {{{"messages", {{{"role", "robot"}, {"content", "x"}}}}}, "messages[0].role"},
        {{{"messages", {{{"role", "user"}}}}}, "messages[0].content"},
        {{{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"temperature", 3}}, "temperature: must be between 0 and 2"},
        {{{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"max_tokens", 0}}, "max_tokens"},
        {{{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"stream", "yes"}}, "stream: must be a boolean"},
    };
    for (const auto &[body, text] : cases) {
        CAPTURE(body.dump());
        const http_result r = post(port, "/api/omni/chat", body);
        CHECK(r.status == 400);
        CHECK(r.json()["error"].get<std::string>().find(text) != std::string::npos);
    }
}

}

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>

TEST_SUITE("http_malformed") {

TEST_CASE("body framing: no Content-Length means no body; chunked bodies are read and limited") {
    host_process host({.extra_args = {"--max-body-bytes", "65536"}});
    const int port = host.port();
    // A bodiless POST (curl -X POST) must be answered at once, not after a read timeout.
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
    socket.setReceiveTimeout(Poco::Timespan(5, 0));
    const std::string raw = "POST /api/omni/stop HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    socket.sendBytes(raw.data(), static_cast<int>(raw.size()));
    char buffer[4096];
    const auto t0 = std::chrono::steady_clock::now();
    const int n = socket.receiveBytes(buffer, sizeof buffer);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(4));
    REQUIRE(n > 0);
    CHECK(std::string(buffer, static_cast<size_t>(n)).rfind("HTTP/1.1 409", 0) == 0);

    auto chunked = [port](const std::string &body) {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, "/api/omni/command-preview",
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        request.setChunkedTransferEncoding(true);
        request.setContentType("application/json");
        session.sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        std::string text;
        Poco::StreamCopier::copyToString(session.receiveResponse(response), text);
        return std::make_pair(static_cast<int>(response.getStatus()), text);
    };
    const auto ok = chunked(R"({"recipe":"demo-wan-tiny"})");
    CHECK(ok.first == 200);
    std::string huge = R"({"recipe":"demo-wan-tiny","model":")" + std::string(70000, 'a') + "\"}";
    const auto too_big = chunked(huge);
    CHECK(too_big.first == 413);
    CHECK(too_big.second.find("limit") != std::string::npos);
    CHECK(get(port, "/api/omni/status").status == 200);
}

}
