// omnihost -> omnihost: a front host in remote mode (the real remote_proxy plugin of this build)
// pointed at a backend host (the test plugin) through the backend's OpenAI-style API, with the
// backend's token as the remote key. Each modality goes front playground endpoint -> remote
// proxy -> backend /v1 route -> backend plugin and back; the backend's /metrics proves which
// /v1 route served it.
#include <doctest/doctest.h>

#include <Poco/Base64Decoder.h>

#include <sstream>

#include "host_process.h"
#include "prometheus_text_parser.h"

using namespace omnihost_test;
using nlohmann::json;

namespace {

const std::string kBackendToken = "backend-secret";

std::string decode_base64(const std::string &text) {
    std::istringstream in(text);
    Poco::Base64Decoder decoder(in);
    return std::string(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
}

double served(int backend, const std::string &route) {
    const auto scraped = get(backend, "/metrics", kBackendToken);
    REQUIRE(scraped.status == 200);
    const auto e = parse_prometheus_text(scraped.body);
    double total = 0;
    for (const auto &s : e.find("omnihost_http_requests_total", {{"route", route}, {"status", "200"}})) total += s.value;
    return total;
}

// Loads `model_type` on the backend, then connects the front to it in remote mode.
void connect(int backend, int front, const std::string &model_type) {
    const auto started = post(backend, "/api/omni/start",
                              {{"model", "test/" + model_type + "-model"}, {"model_type", model_type}, {"run_mode", "subprocess"}},
                              kBackendToken);
    REQUIRE_MESSAGE(started.status == 202, started.body);
    REQUIRE(wait_for_state(backend, "ready", 20, kBackendToken).value("state", "") == "ready");
    const auto remote = post(front, "/api/omni/start",
                             {{"model", "test/" + model_type + "-model"}, {"model_type", model_type}, {"run_mode", "remote"},
                              {"remote_url", "http://127.0.0.1:" + std::to_string(backend) + "/v1"},
                              {"remote_api_key", kBackendToken}});
    REQUIRE_MESSAGE(remote.status == 202, remote.body);
    CHECK(remote.json()["plugin"] == "remote_proxy");
    const json status = wait_for_state(front, "ready", 30);
    REQUIRE_MESSAGE(status.value("state", "") == "ready", status.dump());
    // The connect probed the backend's readiness and model list with the key.
    CHECK(served(backend, "/health") >= 1);
    CHECK(served(backend, "/v1/models") >= 1);
}

void disconnect(int backend, int front) {
    CHECK(post(front, "/api/omni/stop", json::object()).status == 200);
    CHECK(post(backend, "/api/omni/stop", json::object(), kBackendToken).status == 200);
}

} // namespace

TEST_SUITE("http_remote_omnihost") {

TEST_CASE("a front omnihost in remote mode generates every modality through a backend omnihost") {
    host_process backend({.extra_args = {"--token", kBackendToken}});
    host_process front({.extra_args = {"--remote-allow", "127.0.0.1:" + std::to_string(backend.port())},
                       .plugin_dir = BUILD_PLUGIN_DIR});
    const int b = backend.port(), f = front.port();

    SUBCASE("image via the backend's diffusion chat") {
        connect(b, f, "image");
        const auto image = post(f, "/api/omni/generate", {{"prompt", "a red square"}, {"width", 64}, {"height", 80},
                                                           {"num_inference_steps", 2}, {"seed", 4}});
        REQUIRE_MESSAGE(image.status == 200, std::string(image.body + "\n" + front.log_text()));
        const std::string png = decode_base64(image.json()["image_base64"].get<std::string>());
        REQUIRE(png.size() > 24);
        CHECK(png.substr(1, 3) == "PNG");
        CHECK(static_cast<uint8_t>(png[19]) == 64); // IHDR width, big-endian
        CHECK(static_cast<uint8_t>(png[23]) == 80); // IHDR height
        CHECK(served(b, "/v1/chat/completions") == 1);
        disconnect(b, f);
    }
    SUBCASE("video via /v1/videos/sync") {
        connect(b, f, "video");
        const auto video = post(f, "/api/omni/generate-video", {{"prompt", "a clip"}, {"duration", 1}, {"fps", 4},
                                                                 {"width", 16}, {"height", 16}, {"num_inference_steps", 2}});
        REQUIRE_MESSAGE(video.status == 200, std::string(video.body + "\n" + front.log_text()));
        const std::string bytes = decode_base64(video.json()["video_base64"].get<std::string>());
        CHECK(bytes.rfind("YUV4MPEG2", 0) == 0);
        CHECK(bytes.find("W16 H16") != std::string::npos);
        CHECK(served(b, "/v1/videos/sync") == 1);
        disconnect(b, f);
    }
    SUBCASE("speech via /v1/audio/speech and audio via /v1/audio/generate") {
        connect(b, f, "tts");
        const auto speech = post(f, "/api/omni/generate-tts", {{"text", "hello from the front"}});
        REQUIRE_MESSAGE(speech.status == 200, std::string(speech.body + "\n" + front.log_text()));
        CHECK(decode_base64(speech.json()["audio_base64"].get<std::string>()).substr(0, 4) == "RIFF");
        CHECK(served(b, "/v1/audio/speech") == 1);
        disconnect(b, f);

        connect(b, f, "audio");
        const auto audio = post(f, "/api/omni/generate-audio", {{"text", "rain"}, {"audio_duration", 1},
                                                                 {"num_inference_steps", 2}});
        REQUIRE_MESSAGE(audio.status == 200, std::string(audio.body + "\n" + front.log_text()));
        CHECK(decode_base64(audio.json()["audio_base64"].get<std::string>()).substr(0, 4) == "RIFF");
        CHECK(served(b, "/v1/audio/generate") == 1);
        disconnect(b, f);
    }
    SUBCASE("chat streams through /v1/chat/completions") {
        connect(b, f, "omni");
        const auto chat = post(f, "/api/omni/chat", {{"messages", json::array({{{"role", "user"}, {"content", "ping"}}})}});
        REQUIRE_MESSAGE(chat.status == 200, chat.body);
        CHECK(chat.body.find("test_plugin") != std::string::npos);
        CHECK(chat.body.find("ping") != std::string::npos);
        CHECK(chat.body.find("[DONE]") != std::string::npos);
        CHECK(served(b, "/v1/chat/completions") == 1);
        disconnect(b, f);
    }
    SUBCASE("a wrong key fails the connect with the reason") {
        const auto started = post(b, "/api/omni/start",
                                  {{"model", "test/image-model"}, {"model_type", "image"}, {"run_mode", "subprocess"}},
                                  kBackendToken);
        REQUIRE(started.status == 202);
        REQUIRE(wait_for_state(b, "ready", 20, kBackendToken).value("state", "") == "ready");
        REQUIRE(post(f, "/api/omni/start", {{"model", "test/image-model"}, {"model_type", "image"}, {"run_mode", "remote"},
                                            {"remote_url", "http://127.0.0.1:" + std::to_string(b)},
                                            {"remote_api_key", "wrong"}}).status == 202);
        const json status = wait_for_state(f, "failed", 30);
        REQUIRE(status.value("state", "") == "failed");
        CHECK(status["error"].get<std::string>().find("API key") != std::string::npos);
    }
}


TEST_CASE("a request cannot point remote mode at a server the operator did not allow (SSRF)") {
    host_process backend({.extra_args = {"--token", kBackendToken}});
    const int b = backend.port();
    const std::string backend_url = "http://127.0.0.1:" + std::to_string(b);
    auto start_remote = [](int front, const std::string &url) {
        return post(front, "/api/omni/start", {{"model", "test/image-model"}, {"model_type", "image"},
                                               {"run_mode", "remote"}, {"remote_url", url},
                                               {"remote_api_key", kBackendToken}});
    };
    SUBCASE("no --remote-allow: every request URL is refused, loopback included, and nothing is reached") {
        host_process front({.plugin_dir = BUILD_PLUGIN_DIR});
        for (const std::string &url : {backend_url, backend_url + "/v1", std::string("http://169.254.169.254/latest"),
                                       std::string("http://localhost:") + std::to_string(b)}) {
            const auto refused = start_remote(front.port(), url);
            CHECK_MESSAGE(refused.status == 403, std::string(url + " -> " + refused.body));
            CHECK(refused.json()["field"] == "remote_url");
            CHECK(refused.json().dump().find("--remote-allow") != std::string::npos);
        }
        // the preview is refused the same way (it names the same server)
        const auto preview = post(front.port(), "/api/omni/command-preview",
                                  {{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "remote"}, {"remote_url", backend_url}});
        CHECK(preview.status == 403);
        CHECK(get(front.port(), "/api/omni/status").json()["state"] == "idle");
        CHECK(served(b, "/health") == 0);
        CHECK(served(b, "/v1/models") == 0);
    }
    SUBCASE("an allow-list admits its servers only, compared by host and port") {
        host_process front({.extra_args = {"--remote-allow", "127.0.0.1:" + std::to_string(b)}, .plugin_dir = BUILD_PLUGIN_DIR});
        const int f = front.port();
        // another port of an allowed host, another name of the same machine, user info that
        // hides the real host: all refused before anything is contacted
        const auto other_port = start_remote(f, "http://127.0.0.1:" + std::to_string(b == 65535 ? 1 : b + 1));
        CHECK(other_port.status == 403);
        CHECK(start_remote(f, "http://localhost:" + std::to_string(b)).status == 403);
        const auto userinfo = start_remote(f, "http://127.0.0.1:" + std::to_string(b) + "@169.254.169.254/");
        CHECK(userinfo.status == 400);
        CHECK(userinfo.json()["field"] == "remote_url");
        CHECK(served(b, "/health") == 0);
        // the listed server connects
        REQUIRE(post(b, "/api/omni/start", {{"model", "test/image-model"}, {"model_type", "image"}, {"run_mode", "subprocess"}},
                     kBackendToken).status == 202);
        REQUIRE(wait_for_state(b, "ready", 20, kBackendToken).value("state", "") == "ready");
        const auto allowed = start_remote(f, backend_url + "/v1/");
        REQUIRE_MESSAGE(allowed.status == 202, allowed.body);
        CHECK(wait_for_state(f, "ready", 30).value("state", "") == "ready");
        CHECK(served(b, "/v1/models") >= 1);
    }
}

}
