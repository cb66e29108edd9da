// Every modality through the upstream API against the stand-in (reached through remote_proxy, the
// one proxy that serves every model type): endpoint fallbacks, every response shape end to end,
// request bodies as sent, upstream errors, the serialization bug, time-outs and cancellation.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "codec.h"
#include "plugin_harness.h"

#include <algorithm>

#include <thread>

using nlohmann::json;
using namespace proxytest;
using namespace std::chrono_literals;

namespace {

struct fixture {
    standin_server server;
    plugin_under_test plugin{"remote_proxy"};
    fixture(json config = json::object()) {
        REQUIRE(plugin.create(config) == OMNIHOST_OK);
        REQUIRE_MESSAGE(plugin.start({{"run_mode", "remote"}, {"model_type", "image"}, {"remote_url", server.url() + "/v1"}}) == OMNIHOST_OK,
                        plugin.last_error());
        standin_reset(server.port());
    }
    void control(const json& patch) { standin_control(server.port(), patch); }
    json last_request(const std::string& path) {
        json all = standin_requests(server.port());
        for (auto it = all.rbegin(); it != all.rend(); ++it)
            if ((*it)["path"] == path) return *it;
        return json();
    }
    std::vector<std::string> paths() {
        std::vector<std::string> out;
        for (const auto& r : standin_requests(server.port())) out.push_back(r["method"].get<std::string>() + " " + r["path"].get<std::string>());
        return out;
    }
};

const json kImage = {{"task", "image"}, {"prompt", "a lighthouse"}, {"negative_prompt", "blurry"}, {"width", 40}, {"height", 24},
                     {"num_inference_steps", 6}, {"guidance_scale", 1.5}, {"seed", 42}};
const json kVideo = {{"task", "video"}, {"prompt", "waves"}, {"duration", 2}, {"fps", 8}, {"width", 64}, {"height", 48},
                     {"num_inference_steps", 3}, {"guidance_scale", 4.0}, {"seed", 1}};
const json kAudio = {{"task", "audio"}, {"text", "rain on a roof"}, {"audio_duration", 1.5}, {"num_inference_steps", 20},
                     {"guidance_scale", 7.0}, {"seed", 5}};

unsigned png_width(const std::string& png) {
    return (uint8_t(png[16]) << 24) | (uint8_t(png[17]) << 16) | (uint8_t(png[18]) << 8) | uint8_t(png[19]);
}

}  // namespace

TEST_CASE("image via chat/completions: literal extra_body, PNG of the requested size") {
    fixture f;
    gen_result r = f.plugin.generate(kImage);
    REQUIRE_MESSAGE(r.status == OMNIHOST_OK, r.error);
    CHECK(r.mime == "image/png");
    CHECK(png_width(r.bytes) == 40);
    json body = json::parse(f.last_request("/v1/chat/completions")["body"].get<std::string>());
    CHECK(body["model"] == "standin/remote-model");
    CHECK(body["messages"][0]["content"] == "a lighthouse");
    CHECK(body["extra_body"] == json({{"height", 24}, {"width", 40}, {"num_inference_steps", 6}, {"guidance_scale", 1.5},
                                      {"seed", 42}, {"negative_prompt", "blurry"}}));
    for (std::string shape : {"chat_string", "chat_data_url_string", "chat_image_key"}) {
        CAPTURE(shape);
        f.control({{"image_shape", shape}});
        gen_result s = f.plugin.generate(kImage);
        CHECK(s.status == OMNIHOST_OK);
        CHECK(s.mime == "image/png");
    }
    f.control({{"image_shape", "chat_empty"}});
    gen_result e = f.plugin.generate(kImage);
    CHECK(e.status == OMNIHOST_INTERNAL);
    CHECK(e.error.find("No image data") != std::string::npos);
}

TEST_CASE("image edit sends the input image as an image_url part; fallbacks when chat is missing") {
    fixture f;
    gen_result first = f.plugin.generate(kImage);
    REQUIRE(first.status == OMNIHOST_OK);
    json edit = kImage;
    edit["input_image"] = omnihost::proxy::base64_encode(first.bytes);
    gen_result r = f.plugin.generate(edit);
    REQUIRE_MESSAGE(r.status == OMNIHOST_OK, r.error);
    json body = json::parse(f.last_request("/v1/chat/completions")["body"].get<std::string>());
    CHECK(body["messages"][0]["content"][0]["type"] == "image_url");
    CHECK(body["messages"][0]["content"][0]["image_url"]["url"].get<std::string>().rfind("data:image/png;base64,", 0) == 0);
    CHECK(body["messages"][0]["content"][1] == json({{"type", "text"}, {"text", "a lighthouse"}}));

    f.control({{"disable", {"/v1/chat/completions"}}});
    gen_result g = f.plugin.generate(kImage);
    REQUIRE_MESSAGE(g.status == OMNIHOST_OK, g.error);
    CHECK(g.metadata["endpoint"] == "/v1/images/generations");
    json gen = json::parse(f.last_request("/v1/images/generations")["body"].get<std::string>());
    CHECK(gen["size"] == "40x24");
    CHECK(gen["response_format"] == "b64_json");
    gen_result e = f.plugin.generate(edit);
    REQUIRE_MESSAGE(e.status == OMNIHOST_OK, e.error);
    CHECK(e.metadata["endpoint"] == "/v1/images/edits");
    CHECK(f.last_request("/v1/images/edits")["content_type"].get<std::string>().rfind("multipart/form-data", 0) == 0);
}

TEST_CASE("video: /v1/videos/sync, then the async job API, then chat") {
    fixture f(json{{"video_poll_interval_s", 0.1}});
    gen_result r = f.plugin.generate(kVideo);
    REQUIRE_MESSAGE(r.status == OMNIHOST_OK, r.error);
    CHECK(r.mime == "video/mp4");
    CHECK(r.bytes.substr(4, 4) == "ftyp");
    CHECK(r.metadata["endpoint"] == "/v1/videos/sync");
    CHECK(r.metadata["num_frames"] == 16);
    std::string form = f.last_request("/v1/videos/sync")["body"];
    CHECK(form.find("name=\"num_frames\"\r\n\r\n16\r\n") != std::string::npos);
    CHECK(form.find("name=\"size\"\r\n\r\n64x48\r\n") != std::string::npos);

    f.control({{"video_shape", "sync_json"}});
    gen_result j = f.plugin.generate(kVideo);
    CHECK(j.status == OMNIHOST_OK);
    CHECK(j.mime == "video/mp4");

    f.control({{"disable", {"/v1/videos/sync"}}});
    harness_job job;
    gen_result a = f.plugin.generate(kVideo, &job);
    REQUIRE_MESSAGE(a.status == OMNIHOST_OK, a.error);
    CHECK(a.metadata["endpoint"] == "/v1/videos");
    CHECK(a.bytes.substr(4, 4) == "ftyp");
    auto p = f.paths();
    CHECK(std::find(p.begin(), p.end(), "GET /v1/videos/video_gen_1/content") != p.end());
    CHECK(job.progress_count() >= 2);

    f.control({{"video_job", "fail"}});
    gen_result failed = f.plugin.generate(kVideo);
    CHECK(failed.status == OMNIHOST_INTERNAL);
    CHECK(failed.error.find("injected job failure") != std::string::npos);

    f.control({{"disable", {"/v1/videos/sync", "/v1/videos"}}, {"video_job", "ok"}});
    gen_result c = f.plugin.generate(kVideo);
    REQUIRE_MESSAGE(c.status == OMNIHOST_OK, c.error);
    CHECK(c.metadata["endpoint"] == "/v1/chat/completions");
    json body = json::parse(f.last_request("/v1/chat/completions")["body"].get<std::string>());
    CHECK(body["extra_body"]["modality"] == "video");
    CHECK(body["extra_body"]["num_frames"] == 16);
    f.control({{"video_shape", "chat_string"}});
    CHECK(f.plugin.generate(kVideo).status == OMNIHOST_OK);
}

TEST_CASE("the serialization bug becomes a clear error pointing to in-process mode") {
    fixture f(json{{"video_poll_interval_s", 0.1}});
    f.control({{"serialization_bug", true}});
    gen_result v = f.plugin.generate(kVideo);
    CHECK(v.status == OMNIHOST_NOT_SUPPORTED);
    CHECK(v.error.find("'numpy.ndarray' object has no attribute 'save'") != std::string::npos);
    CHECK(v.error.find("in-process") != std::string::npos);
    f.control({{"disable", {"/v1/videos/sync"}}, {"video_job", "serialization_bug"}, {"serialization_bug", false}});
    gen_result j = f.plugin.generate(kVideo);
    CHECK(j.status == OMNIHOST_NOT_SUPPORTED);
    CHECK(j.error.find("in-process") != std::string::npos);
    f.control({{"disable", {"/v1/videos/sync", "/v1/videos"}}, {"serialization_bug", true}});
    CHECK(f.plugin.generate(kVideo).status == OMNIHOST_NOT_SUPPORTED);
    CHECK(f.plugin.generate(kAudio).status == OMNIHOST_NOT_SUPPORTED);
}

TEST_CASE("TTS: raw bytes, MIME from Content-Type, payload fields") {
    fixture f;
    json req = {{"task", "tts"}, {"text", "Hello there"}, {"voice", "Serena"}, {"speed", 1.25}, {"instructions", "calm"}};
    gen_result r = f.plugin.generate(req);
    REQUIRE_MESSAGE(r.status == OMNIHOST_OK, r.error);
    CHECK(r.mime == "audio/wav");
    CHECK(r.bytes.substr(8, 4) == "WAVE");
    json body = json::parse(f.last_request("/v1/audio/speech")["body"].get<std::string>());
    CHECK(body == json({{"model", "standin/remote-model"}, {"input", "Hello there"}, {"voice", "Serena"},
                        {"response_format", "wav"}, {"speed", 1.25}, {"instructions", "calm"}}));
    REQUIRE(f.plugin.generate({{"task", "tts"}, {"text", "x"}}).status == OMNIHOST_OK);
    json plain = json::parse(f.last_request("/v1/audio/speech")["body"].get<std::string>());
    CHECK_FALSE(plain.contains("speed"));  // only sent when != 1.0
    CHECK(plain["voice"] == "Vivian");
    f.control({{"tts_shape", "flac_ct"}});
    CHECK(f.plugin.generate(req).mime == "audio/flac");
    f.control({{"tts_shape", "json"}});
    gen_result j = f.plugin.generate(req);
    CHECK(j.status == OMNIHOST_INTERNAL);
    CHECK(j.error.rfind("Unexpected response format: application/json", 0) == 0);
    f.control({{"tts_shape", "empty"}});
    CHECK(f.plugin.generate(req).error == "No audio data returned");
    CHECK(f.plugin.generate({{"task", "tts"}, {"text", "  "}}).status == OMNIHOST_INVALID_ARGUMENT);
}

TEST_CASE("audio: /v1/audio/generate, else the images route with top-level parameters and every shape") {
    fixture f;
    gen_result r = f.plugin.generate(kAudio);
    REQUIRE_MESSAGE(r.status == OMNIHOST_OK, r.error);
    CHECK(r.mime == "audio/wav");
    CHECK(r.metadata["endpoint"] == "/v1/audio/generate");
    json body = json::parse(f.last_request("/v1/audio/generate")["body"].get<std::string>());
    CHECK(body["input"] == "rain on a roof");
    CHECK(body["audio_length"] == 1.5);
    f.control({{"audio_generate", "json_data"}});
    CHECK(f.plugin.generate(kAudio).mime == "audio/wav");

    f.control({{"disable", {"/v1/audio/generate"}}});
    for (std::string shape : {"data_b64", "data_url", "message_audio", "message_audio_string", "content_audio_url",
                              "content_image_url_audio", "content_string", "top_audio_dict", "top_audio_string"}) {
        CAPTURE(shape);
        f.control({{"audio_shape", shape}});
        gen_result s = f.plugin.generate(kAudio);
        REQUIRE_MESSAGE(s.status == OMNIHOST_OK, s.error);
        CHECK(s.mime == "audio/wav");
        CHECK(s.bytes.substr(8, 4) == "WAVE");
        CHECK(s.metadata["endpoint"] == "/v1/images/generations");
    }
    json gen = json::parse(f.last_request("/v1/images/generations")["body"].get<std::string>());
    CHECK(gen["audio_end_in_s"] == 1.5);
    CHECK(gen["audio_start_in_s"] == 0.0);
    CHECK(gen["negative_prompt"] == "low quality, average quality");
    CHECK_FALSE(gen.contains("extra_body"));
    f.control({{"audio_shape", "image_instead"}});
    CHECK(f.plugin.generate(kAudio).error.find("final_output_type") != std::string::npos);
    f.control({{"audio_shape", "error_key"}});
    CHECK(f.plugin.generate(kAudio).error == "Generation failed: CUDA out of memory");
    f.control({{"audio_shape", "empty"}});
    CHECK(f.plugin.generate(kAudio).error.rfind("No audio data in response", 0) == 0);
}

TEST_CASE("omni chat: SSE re-emitted as text/audio events; whole-JSON answers and error events") {
    fixture f;
    json req = {{"task", "chat"}, {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}, {"max_tokens", 64}};
    harness_job job;
    gen_result r = f.plugin.generate(req, &job);
    REQUIRE_MESSAGE(r.status == OMNIHOST_OK, r.error);
    std::string joined;
    int audio = 0;
    for (const auto& e : job.events()) {
        json j = json::parse(e);
        if (j.contains("text")) joined += j["text"].get<std::string>();
        if (j.contains("audio")) ++audio;
    }
    CHECK(joined == "Hello from the stand-in. You said: hi");
    CHECK(r.metadata["text"] == joined);
    CHECK(audio == 1);
    CHECK(r.bytes.empty());  // streamed, not repeated in the result
    CHECK(r.metadata["audio_format"] == "audio/wav");
    json body = json::parse(f.last_request("/v1/chat/completions")["body"].get<std::string>());
    CHECK(body["stream"] == true);
    CHECK(body["max_tokens"] == 64);

    f.control({{"chat_shape", "json"}});
    harness_job job2;
    gen_result w = f.plugin.generate(req, &job2);
    REQUIRE_MESSAGE(w.status == OMNIHOST_OK, w.error);
    CHECK(w.metadata["text"] == "Hello from the stand-in. You said: hi");
    CHECK(job2.events().size() == 2);

    f.control({{"chat_shape", "error_event"}});
    gen_result e = f.plugin.generate(req);
    CHECK(e.status == OMNIHOST_INTERNAL);
    CHECK(e.error.find("engine died mid-stream") != std::string::npos);
    CHECK(f.plugin.generate({{"task", "chat"}, {"messages", json::array()}}).error.rfind("messages:", 0) == 0);
}

TEST_CASE("upstream errors keep their text and map to a status") {
    fixture f;
    f.control({{"fail", {{"/v1/chat/completions", {{"status", 500}, {"body", "{\"object\":\"error\",\"message\":\"Image generation failed: CUDA OOM\"}"}}}}}});
    gen_result r = f.plugin.generate(kImage);
    CHECK(r.status == OMNIHOST_INTERNAL);
    CHECK(r.error == "vLLM-Omni error 500 on /v1/chat/completions: Image generation failed: CUDA OOM");
    f.control({{"fail", {{"/v1/chat/completions", {{"status", 400}, {"body", "{\"detail\":\"height must be a multiple of 16\"}"}}}}}});
    r = f.plugin.generate(kImage);
    CHECK(r.status == OMNIHOST_INVALID_ARGUMENT);
    CHECK(r.error.find("height must be a multiple of 16") != std::string::npos);
    CHECK(f.plugin.generate({{"task", "image"}}).error.rfind("prompt:", 0) == 0);
    CHECK(f.plugin.generate({{"task", "image"}, {"prompt", "x"}, {"width", "wide"}}).error.rfind("width:", 0) == 0);
    CHECK(f.plugin.generate({{"task", "paint"}}).error.rfind("task:", 0) == 0);
}

TEST_CASE("time-outs are configurable and name their setting; cancel interrupts a hung request") {
    fixture f(json{{"image_timeout_s", 0.5}, {"tts_timeout_s", 0.5}});
    f.control({{"hang_ms", {{"/v1/chat/completions", 3000}, {"/v1/audio/speech", 3000}}}});
    gen_result r = f.plugin.generate(kImage);
    CHECK(r.status == OMNIHOST_UNAVAILABLE);
    CHECK(r.error.find("timed out") != std::string::npos);
    CHECK(r.error.find("image_timeout_s") != std::string::npos);
    CHECK(f.plugin.generate({{"task", "tts"}, {"text", "x"}}).error.find("tts_timeout_s") != std::string::npos);

    fixture g;
    g.control({{"hang_ms", {{"/v1/chat/completions", 5000}}}});
    harness_job job;
    std::thread canceller([&] {
        std::this_thread::sleep_for(300ms);
        job.cancel = true;
    });
    gen_result c = g.plugin.generate(kImage, &job);
    canceller.join();
    CHECK(c.status == OMNIHOST_CANCELLED);
}
