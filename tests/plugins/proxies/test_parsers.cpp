// Pure unit tests: every upstream response shape, SSE framing, codecs, the vllm/container command
// builders, secret redaction and remote URL normalisation.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <vector>

#include "codec.h"
#include "container_command.h"
#include "media_parsers.h"
#include "remote_url.h"
#include "sse.h"
#include "vllm_command.h"

using nlohmann::json;
using namespace omnihost::proxy;

namespace {
const std::string kPng = std::string("\x89PNG\r\n\x1a\n", 8) + "rest-of-png";
const std::string kWav = std::string("RIFF\x24\0\0\0WAVEfmt ", 16) + "data";
const std::string kMp4 = std::string("\0\0\0\x18" "ftypisom", 12) + "moov";
std::string b64(const std::string& s) { return base64_encode(s); }
json chat(const json& content, const json& audio = nullptr) {
    json msg = {{"role", "assistant"}, {"content", content}};
    if (!audio.is_null()) msg["audio"] = audio;
    return {{"choices", json::array({{{"message", msg}}})}};
}
int status_of(const std::function<void()>& f, std::string* msg = nullptr) {
    try {
        f();
    } catch (const proxy_error& e) {
        if (msg) *msg = e.what();
        return e.status();
    }
    return OMNIHOST_OK;
}
}  // namespace

TEST_CASE("base64 round trip, url-safe alphabet, md5") {
    for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) CHECK(base64_decode(base64_encode(s)) == s);
    CHECK(base64_decode("_-8") == base64_decode("/+8"));
    CHECK_THROWS(base64_decode("a$b"));
    CHECK(md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(sniff_mime(kPng) == "image/png");
    CHECK(sniff_mime(kWav) == "audio/wav");
    CHECK(sniff_mime(kMp4) == "video/mp4");
}

TEST_CASE("image: every response shape") {
    const std::string url = "data:image/png;base64," + b64(kPng);
    SUBCASE("chat content list with image_url") { CHECK(parse_image_response(chat(json::array({{{"type", "image_url"}, {"image_url", {{"url", url}}}}}))).bytes == kPng); }
    SUBCASE("chat content list with an image key") { CHECK(parse_image_response(chat(json::array({{{"type", "image"}, {"image", b64(kPng)}}}))).bytes == kPng); }
    SUBCASE("chat string of base64") { CHECK(parse_image_response(chat(b64(kPng))).bytes == kPng); }
    SUBCASE("chat string data URL") {
        auto p = parse_image_response(chat(url));
        CHECK(p.bytes == kPng);
        CHECK(p.mime == "image/png");
    }
    SUBCASE("images/generations data[].b64_json") {
        CHECK(parse_image_response({{"created", 1}, {"data", json::array({{{"b64_json", b64(kPng)}, {"url", nullptr}}})}}).bytes == kPng);
    }
    SUBCASE("empty content list") {
        std::string m;
        CHECK(status_of([&] { parse_image_response(chat(json::array())); }, &m) == OMNIHOST_INTERNAL);
        CHECK(m.find("No image data") != std::string::npos);
    }
    SUBCASE("error object") {
        std::string m;
        CHECK(status_of([&] { parse_image_response({{"error", {{"message", "OOM"}}}}); }, &m) == OMNIHOST_INTERNAL);
        CHECK(m == "Generation failed: OOM");
    }
    SUBCASE("audio where an image was expected") {
        CHECK(status_of([&] { parse_image_response(chat(b64(kWav))); }) == OMNIHOST_INTERNAL);
    }
}

TEST_CASE("video: every response shape") {
    const std::string url = "data:video/mp4;base64," + b64(kMp4);
    CHECK(parse_video_response(chat(json::array({{{"type", "text"}, {"text", "x"}}, {{"type", "video"}, {"video_url", {{"url", url}}}}}))).bytes == kMp4);
    CHECK(parse_video_response(chat(json::array({{{"type", "video_url"}, {"video_url", {{"url", url}}}}}))).bytes == kMp4);
    CHECK(parse_video_response(chat(b64(kMp4))).mime == "video/mp4");
    CHECK(parse_video_response({{"created", 1}, {"data", json::array({{{"b64_json", b64(kMp4)}}})}, {"peak_memory_mb", 0.0}}).bytes == kMp4);
    std::string m;
    CHECK(status_of([&] { parse_video_response({{"object", "x"}}); }, &m) == OMNIHOST_INTERNAL);
    CHECK(m == "No choices in response");
    CHECK(status_of([&] { parse_video_response(chat(json::array({{{"type", "text"}, {"text", "x"}}}))); }, &m) == OMNIHOST_INTERNAL);
    CHECK(m == "No video data in response");
}

TEST_CASE("audio: the playground's parse order, every shape") {
    const std::string url = "data:audio/wav;base64," + b64(kWav);
    CHECK(parse_audio_response({{"data", json::array({{{"b64_json", b64(kWav)}}})}}).bytes == kWav);
    CHECK(parse_audio_response({{"data", json::array({{{"url", url}}})}}).mime == "audio/wav");
    CHECK(parse_audio_response(chat(nullptr, {{"data", b64(kWav)}, {"format", "wav"}})).bytes == kWav);
    CHECK(parse_audio_response(chat(nullptr, b64(kWav))).bytes == kWav);
    CHECK(parse_audio_response(chat(json::array({{{"type", "audio_url"}, {"audio_url", {{"url", url}}}}}))).bytes == kWav);
    CHECK(parse_audio_response(chat(json::array({{{"type", "image_url"}, {"image_url", {{"url", url}}}}}))).bytes == kWav);
    CHECK(parse_audio_response(chat(url)).bytes == kWav);
    CHECK(parse_audio_response({{"audio", {{"data", b64(kWav)}, {"format", "wav"}}}}).bytes == kWav);
    CHECK(parse_audio_response({{"audio", {{"url", url}}}}).bytes == kWav);
    CHECK(parse_audio_response({{"audio", b64(kWav)}}).bytes == kWav);
    std::string m;
    CHECK(status_of([&] { parse_audio_response({{"error", {{"message", "CUDA OOM"}}}}); }, &m) == OMNIHOST_INTERNAL);
    CHECK(m == "Generation failed: CUDA OOM");
    CHECK(status_of([&] { parse_audio_response({{"data", json::array()}}); }, &m) == OMNIHOST_INTERNAL);
    CHECK(m.find("No audio data in response") == 0);
    // An image data: URL in content is not audio (skipped), and a PNG in data[] is the stage bug.
    CHECK(status_of([&] { parse_audio_response(chat(json::array({{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + b64(kPng)}}}}}))); }) == OMNIHOST_INTERNAL);
    CHECK(status_of([&] { parse_audio_response({{"data", json::array({{{"b64_json", b64(kPng)}}})}}); }, &m) == OMNIHOST_INTERNAL);
    CHECK(m.find("final_output_type") != std::string::npos);
}

TEST_CASE("TTS content types") {
    CHECK(audio_mime_from_content_type("audio/wav") == "audio/wav");
    CHECK(audio_mime_from_content_type("audio/x-wav; charset=binary") == "audio/wav");
    CHECK(audio_mime_from_content_type("audio/mpeg") == "audio/mpeg");
    CHECK(audio_mime_from_content_type("audio/mp3") == "audio/mpeg");
    CHECK(audio_mime_from_content_type("audio/flac") == "audio/flac");
    CHECK(audio_mime_from_content_type("application/octet-stream") == "audio/wav");
    CHECK(audio_mime_from_content_type("application/json").empty());
}

TEST_CASE("chat pieces from deltas and whole messages") {
    json delta = {{"choices", json::array({{{"delta", {{"content", "Hel"}}}}})}};
    auto p = parse_chat_pieces(delta);
    REQUIRE(p.size() == 1);
    CHECK(p[0].text == "Hel");
    json parts = {{"choices", json::array({{{"delta", {{"content", json::array({{{"type", "text"}, {"text", "a"}}, {{"type", "audio"}, {"audio_url", {{"url", "data:audio/wav;base64,QUJD"}}}}})}}}}})}};
    p = parse_chat_pieces(parts);
    REQUIRE(p.size() == 2);
    CHECK(p[1].audio_b64 == "QUJD");
    CHECK(p[1].audio_format == "audio/wav");
    p = parse_chat_pieces(chat("whole", {{"data", "QUJD"}, {"format", "wav"}}));
    REQUIRE(p.size() == 2);
    CHECK(p[0].text == "whole");
    CHECK(p[1].audio_format == "audio/wav");
    CHECK(parse_chat_pieces({{"choices", json::array()}}).empty());
}

TEST_CASE("SSE framing") {
    std::vector<std::string> events;
    sse_parser sse([&](const std::string& d) { events.push_back(d); });
    for (std::string l : {": comment", "event: message", "data: {\"a\":1}", "", "data: line1", "data: line2", "", "data:[DONE]"}) sse.feed_line(l);
    sse.finish();
    REQUIRE(events.size() == 3);
    CHECK(events[0] == "{\"a\":1}");
    CHECK(events[1] == "line1\nline2");
    CHECK(events[2] == "[DONE]");
}

TEST_CASE("upstream errors and the serialization bug") {
    CHECK(upstream_error_text("{\"error\":{\"message\":\"boom\"}}") == "boom");
    CHECK(upstream_error_text("{\"detail\":\"bad\"}") == "bad");
    CHECK(upstream_error_text("{\"object\":\"error\",\"message\":\"m\"}") == "m");
    CHECK(upstream_error_text("plain text\n") == "plain text");
    auto e = upstream_http_error(500, "{\"message\":\"Image generation failed: 'numpy.ndarray' object has no attribute 'save'\"}", "video", "/v1/chat/completions");
    CHECK(e.status() == OMNIHOST_NOT_SUPPORTED);
    CHECK(std::string(e.what()).find("in-process") != std::string::npos);
    CHECK(upstream_http_error(401, "{\"error\":\"Unauthorized\"}", "image", "x").status() == OMNIHOST_UNAVAILABLE);
    CHECK(upstream_http_error(400, "{}", "image", "x").status() == OMNIHOST_INVALID_ARGUMENT);
    CHECK(upstream_http_error(500, "oops", "image", "x").status() == OMNIHOST_INTERNAL);
    CHECK(upstream_http_error(503, "", "image", "x").status() == OMNIHOST_UNAVAILABLE);
}

TEST_CASE("vllm serve command: flags exactly as the playground, plus the ones it lacked") {
    json start = {{"model", "Tongyi-MAI/Z-Image-Turbo"}, {"port", 8091}, {"run_mode", "subprocess"}};
    serve_settings s = parse_serve_settings(start, true);
    auto cmd = subprocess_command(s, "vllm", "/usr/bin");
    CHECK(cmd.argv == std::vector<std::string>{"vllm", "serve", "--host", "127.0.0.1", "--port", "8091", "--omni",
                                               "--enforce-eager", "--", "Tongyi-MAI/Z-Image-Turbo"});
    CHECK(cmd.env.empty());

    start.update({{"tensor_parallel_size", 2}, {"gpu_memory_utilization", 0.85}, {"trust_remote_code", true},
                  {"enable_cpu_offload", true}, {"enable_torch_compile", true}, {"vae_use_slicing", true},
                  {"vae_use_tiling", true}, {"stage_configs_path", "/cfg/stable_audio.yaml"}, {"gpu_device", "0,1"},
                  {"hf_token", "hf_secret"}, {"use_modelscope", true}});
    s = parse_serve_settings(start, true);
    cmd = subprocess_command(s, "vllm", "/usr/bin");
    CHECK(cmd.argv == std::vector<std::string>{"vllm", "serve", "--host", "127.0.0.1", "--port", "8091", "--omni",
                                               "--tensor-parallel-size", "2", "--gpu-memory-utilization", "0.85",
                                               "--trust-remote-code", "--enable-cpu-offload", "--vae-use-slicing",
                                               "--vae-use-tiling", "--stage-configs-path", "/cfg/stable_audio.yaml",
                                               "--", "Tongyi-MAI/Z-Image-Turbo"});
    CHECK(cmd.env.at("CUDA_VISIBLE_DEVICES") == "0,1");
    CHECK(cmd.env.at("HF_TOKEN") == "hf_secret");
    CHECK(cmd.env.at("HUGGING_FACE_HUB_TOKEN") == "hf_secret");
    CHECK(cmd.env.at("VLLM_USE_MODELSCOPE") == "True");

    json p = preview_json("subprocess", cmd, s);
    CHECK(p["env"]["HF_TOKEN"] == "***");
    CHECK(p["command"].get<std::string>().find("hf_secret") == std::string::npos);
    CHECK(p["command"].get<std::string>().find("HF_TOKEN=***") != std::string::npos);
    CHECK(p["argv"] == json(cmd.argv));

    s = parse_serve_settings({{"model", "m"}, {"venv_path", "/opt/venv/"}}, true);
    cmd = subprocess_command(s, "vllm", "/usr/bin");
    CHECK(cmd.argv[0] == "/opt/venv/bin/vllm");
    CHECK(cmd.env.at("VIRTUAL_ENV") == "/opt/venv");
    CHECK(cmd.env.at("PATH") == "/opt/venv/bin:/usr/bin");
}

TEST_CASE("start settings validation names the field") {
    auto msg = [](const json& j) {
        try {
            parse_serve_settings(j, true);
        } catch (const proxy_error& e) {
            CHECK(e.status() == OMNIHOST_INVALID_ARGUMENT);
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(msg(json::object()).rfind("model:", 0) == 0);
    CHECK(msg({{"model", "m"}, {"port", 70000}}).rfind("port:", 0) == 0);
    CHECK(msg({{"model", "m"}, {"port", "8091"}}).rfind("port:", 0) == 0);
    CHECK(msg({{"model", "m"}, {"gpu_memory_utilization", 1.5}}).rfind("gpu_memory_utilization:", 0) == 0);
    CHECK(msg({{"model", "m"}, {"tensor_parallel_size", 0}}).rfind("tensor_parallel_size:", 0) == 0);
    CHECK(msg({{"model", "m"}, {"gpu_device", "0;rm -rf"}}).rfind("gpu_device:", 0) == 0);
    CHECK(msg({{"model", "m"}, {"model_type", "3d"}}).rfind("model_type:", 0) == 0);
    CHECK(msg({{"model", "m"}, {"enable_cpu_offload", "yes"}}).rfind("enable_cpu_offload:", 0) == 0);
}

TEST_CASE("redaction and shell quoting") {
    auto r = redact_argv({"podman", "run", "-e", "HF_TOKEN=abc", "-e", "HUGGING_FACE_HUB_TOKEN=abc", "--api-key", "k", "x"});
    CHECK(r == std::vector<std::string>{"podman", "run", "-e", "HF_TOKEN=***", "-e", "HUGGING_FACE_HUB_TOKEN=***", "--api-key", "***", "x"});
    CHECK(shell_quote("plain-arg_1.0") == "plain-arg_1.0");
    CHECK(shell_quote("a b") == "'a b'");
    CHECK(shell_quote("it's") == "'it'\\''s'");
    CHECK(shell_quote("\"device=0,1\"") == "'\"device=0,1\"'");
}

TEST_CASE("container run command, GPU flags and config hash") {
    ::unsetenv("HF_HUB_OFFLINE");  // the exact command below is the one with downloads allowed
    container_config c;
    c.runtime = "podman";
    c.hf_cache_dir = "/root/.cache/huggingface";
    serve_settings s = parse_serve_settings({{"model", "Qwen/Qwen-Image"}, {"port", 8091}, {"run_mode", "container"}}, true);
    std::string h = container_config_hash(s, c);
    CHECK(h.size() == 12);
    auto argv = container_run_argv(s, c, h, "123:456");
    std::vector<std::string> expected = {"podman", "run", "-d", "--name", "vllm-omni-service", "-p", "127.0.0.1:8091:8091", "--ipc=host",
                                         "--label", "vllm-omni.config.hash=" + h, "--label",
                                         "vllm-omni.image=docker.io/vllm/vllm-omni:v0.14.0rc1", "--label", "omnihost.owner=123:456",
                                         "-v", "/root/.cache/huggingface:/root/.cache/huggingface", "--device", "nvidia.com/gpu=all",
                                         "--security-opt=label=disable", "docker.io/vllm/vllm-omni:v0.14.0rc1", "vllm", "serve",
                                         "--omni", "--port", "8091", "--enforce-eager", "--", "Qwen/Qwen-Image"};
    CHECK(argv == expected);
    // torch.compile and ModelScope are honoured (the playground dropped both)
    serve_settings s2 = parse_serve_settings({{"model", "Qwen/Qwen-Image"}, {"enable_torch_compile", true}, {"use_modelscope", true}}, true);
    auto argv2 = container_run_argv(s2, c, "x", "1:2");
    CHECK(std::find(argv2.begin(), argv2.end(), "--enforce-eager") == argv2.end());
    CHECK(std::find(argv2.begin(), argv2.end(), "VLLM_USE_MODELSCOPE=True") != argv2.end());
    CHECK(container_config_hash(s2, c) != h);
    // same settings -> same hash; a token changes it but never appears in it
    CHECK(container_config_hash(parse_serve_settings({{"model", "Qwen/Qwen-Image"}, {"port", 8091}}, true), c) == h);
    serve_settings s3 = parse_serve_settings({{"model", "Qwen/Qwen-Image"}, {"port", 8091}, {"hf_token", "t"}}, true);
    CHECK(container_config_hash(s3, c) != h);
    // the token travels in the runtime's environment; the argv only names the variables
    auto argv3 = container_run_argv(s3, c, "x", "1:2");
    for (const auto& a : argv3) CHECK(a.find("=t") == std::string::npos);
    CHECK(std::find(argv3.begin(), argv3.end(), "HF_TOKEN") != argv3.end());
    CHECK(std::find(argv3.begin(), argv3.end(), "HUGGING_FACE_HUB_TOKEN") != argv3.end());
    CHECK(container_secret_env(s3) == std::map<std::string, std::string>{{"HF_TOKEN", "t"}, {"HUGGING_FACE_HUB_TOKEN", "t"}});
    // The host's --no-download (HF_HUB_OFFLINE) reaches the container and is part of its configuration.
    ::setenv("HF_HUB_OFFLINE", "1", 1);
    auto offline = container_run_argv(s, c, h, "123:456");
    CHECK(std::find(offline.begin(), offline.end(), "HF_HUB_OFFLINE=1") != offline.end());
    CHECK(container_config_hash(s, c) != h);
    ::unsetenv("HF_HUB_OFFLINE");
    CHECK(container_config_hash(s, c) == h);

    CHECK(gpu_flags(true, "nvidia", "") == std::vector<std::string>{"--gpus", "all"});
    CHECK(gpu_flags(true, "nvidia", "0,1") == std::vector<std::string>{"--gpus", "\"device=0,1\""});
    CHECK(gpu_flags(false, "nvidia", "0,1") == std::vector<std::string>{"--device", "nvidia.com/gpu=0", "--device", "nvidia.com/gpu=1", "--security-opt=label=disable"});
    CHECK(gpu_flags(false, "amd", "") == std::vector<std::string>{"--group-add=video", "--cap-add=SYS_PTRACE", "--security-opt", "seccomp=unconfined", "--device", "/dev/kfd", "--device", "/dev/dri"});
    CHECK(gpu_flags(false, "none", "0").empty());
    serve_settings amd = parse_serve_settings({{"model", "m"}}, true);
    amd.accelerator = "amd";  // the operator's choice (launch policy); a request cannot make it
    CHECK(container_image(c, amd) == "docker.io/vllm/vllm-omni-rocm:v0.14.0rc1");
}

TEST_CASE("remote URL normalisation") {
    bool stripped = false;
    CHECK(normalize_remote_url("http://gpu:8091/v1/", &stripped) == "http://gpu:8091");
    CHECK(stripped);
    CHECK(normalize_remote_url("  https://host.example/omni/  ", &stripped) == "https://host.example/omni");
    CHECK_FALSE(stripped);
    CHECK(normalize_remote_url("HTTP://h:1") == "HTTP://h:1");
    for (const std::string& bad : std::vector<std::string>{"", "gpu:8091", "ftp://h", "http://", "http:///x",
                                                          "http://h\r\nX-Evil: 1", "http://h\x7f:1", "http://a\tb"}) {
        try {
            normalize_remote_url(bad);
            FAIL("accepted " << bad);
        } catch (const proxy_error& e) {
            CHECK(e.status() == OMNIHOST_INVALID_ARGUMENT);
            CHECK(std::string(e.what()).rfind("remote_url:", 0) == 0);
        }
    }
}

TEST_CASE("an upstream video job's progress is clamped, never converted out of range") {
    using nlohmann::json;
    CHECK(parse_video_job(json{{"id", "v1"}, {"progress", 1e300}}).progress == 100);
    CHECK(parse_video_job(json{{"id", "v1"}, {"progress", -1e10}}).progress == 0);
    CHECK(parse_video_job(json{{"id", "v1"}, {"progress", 42.7}}).progress == 42);
    CHECK(parse_video_job(json{{"id", "v1"}, {"progress", 7}}).progress == 7);
}
