// The host's own OpenAI-style API on the real binary with the test plugin: each route against a
// model of its modality, the upstream's answer shapes, and every refusal in OpenAI's error shape
// naming the field.
#include <doctest/doctest.h>

#include <Poco/Base64Decoder.h>

#include <chrono>
#include <future>
#include <sstream>

#include "host_process.h"

using namespace omnihost_test;
using nlohmann::json;

namespace {

std::string decode_base64(const std::string &text) {
    std::istringstream in(text);
    Poco::Base64Decoder decoder(in);
    return std::string(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
}

void start_ready(int port, const std::string &model_type, const std::string &token = "") {
    const auto started = post(port, "/api/omni/start",
                              {{"model", "test/" + model_type + "-model"}, {"model_type", model_type}, {"run_mode", "subprocess"}},
                              token);
    REQUIRE_MESSAGE(started.status == 202, started.body);
    REQUIRE(wait_for_state(port, "ready", 20, token).value("state", "") == "ready");
}

void stop(int port) { REQUIRE(post(port, "/api/omni/stop", json::object()).status == 200); }

// {"error":{"message","type","param","code"}} with the given status and param (null when "").
void check_openai_error(const http_result &r, int status, const std::string &param = "") {
    const std::string shown = r.body.substr(0, 400);
    CAPTURE(shown);
    CHECK(r.status == status);
    const json body = r.json();
    REQUIRE(body.is_object());
    REQUIRE(body.contains("error"));
    const json &e = body["error"];
    CHECK(e["message"].is_string());
    CHECK(!e["message"].get<std::string>().empty());
    CHECK(e["type"].is_string());
    CHECK(e["code"] == status);
    if (param.empty()) CHECK(e["param"].is_null());
    else CHECK(e["param"] == param);
}

http_result post_json(int port, const std::string &path, const json &body, const std::string &token = "") {
    return post(port, path, body, token);
}

std::string multipart(const std::string &boundary, const std::vector<std::pair<std::string, std::string>> &fields) {
    std::string out;
    for (const auto &[name, value] : fields)
        out += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
    return out + "--" + boundary + "--\r\n";
}

uint32_t be32(const std::string &bytes, size_t at) {
    return (static_cast<uint8_t>(bytes[at]) << 24) | (static_cast<uint8_t>(bytes[at + 1]) << 16) |
           (static_cast<uint8_t>(bytes[at + 2]) << 8) | static_cast<uint8_t>(bytes[at + 3]);
}

} // namespace

TEST_SUITE("http_openai") {

TEST_CASE("with no model: empty model list, 503 health, refusals in OpenAI's shape") {
    host_process host;
    const int port = host.port();
    const auto models = get(port, "/v1/models");
    REQUIRE(models.status == 200);
    CHECK(models.json()["object"] == "list");
    CHECK(models.json()["data"].empty());
    check_openai_error(get(port, "/health"), 503);
    check_openai_error(post_json(port, "/v1/images/generations", {{"prompt", "x"}}), 503);
    // The host-owned prompt is checked before readiness.
    check_openai_error(post_json(port, "/v1/images/generations", {{"size", "16x16"}}), 400, "prompt");
    check_openai_error(get(port, "/v1/nothing-here"), 404);
    const auto wrong = http(port, "PUT", "/v1/chat/completions", "{}");
    check_openai_error(wrong, 405);
    CHECK(wrong.headers.at("Allow") == "POST");
    check_openai_error(http(port, "POST", "/v1/images/generations", "prompt=x", {{"Content-Type", "text/plain"}}), 415,
                       "Content-Type");
    check_openai_error(http(port, "POST", "/v1/images/generations", "{not json"), 400, "body");
    check_openai_error(get(port, "/v1/videos/..%2Fetc"), 404);
}

TEST_CASE("the token guards /v1 and /health like /api") {
    host_process host({.extra_args = {"--token", "v1-token"}});
    const int port = host.port();
    const auto refused = get(port, "/v1/models");
    check_openai_error(refused, 401, "Authorization");
    CHECK(refused.headers.at("WWW-Authenticate") == "Bearer");
    check_openai_error(get(port, "/health"), 401, "Authorization");
    CHECK(get(port, "/v1/models", "v1-token").status == 200);
    // A foreign page is refused before the token is even looked at (the router's Origin rule).
    CHECK(http(port, "POST", "/v1/chat/completions", "{}",
               {{"Origin", "http://evil.example"}, {"Authorization", "Bearer v1-token"}}).status == 403);
}

TEST_CASE("images: b64_json PNG at the asked size, model list, health, diffusion chat") {
    host_process host;
    const int port = host.port();
    start_ready(port, "image");
    CHECK(get(port, "/health").status == 200);
    const json models = get(port, "/v1/models").json();
    REQUIRE(models["data"].size() == 1);
    CHECK(models["data"][0]["id"] == "test/image-model");
    CHECK(models["data"][0]["object"] == "model");

    const auto image = post_json(port, "/v1/images/generations",
                                 {{"model", "test/image-model"}, {"prompt", "a red square"}, {"size", "24x12"}, {"n", 1},
                                  {"response_format", "b64_json"}, {"seed", 3}});
    REQUIRE_MESSAGE(image.status == 200, image.body);
    const json body = image.json();
    CHECK(body["created"].is_number_integer());
    REQUIRE(body["data"].size() == 1);
    CHECK(body["data"][0]["url"].is_null());
    const std::string png = decode_base64(body["data"][0]["b64_json"].get<std::string>());
    REQUIRE(png.size() > 24);
    CHECK(png.substr(1, 3) == "PNG");
    CHECK(be32(png, 16) == 24); // IHDR width
    CHECK(be32(png, 20) == 12); // IHDR height

    check_openai_error(post_json(port, "/v1/images/generations", {{"prompt", "x"}, {"n", 2}}), 400, "n");
    check_openai_error(post_json(port, "/v1/images/generations", {{"prompt", "x"}, {"size", "big"}}), 400, "size");
    check_openai_error(post_json(port, "/v1/images/generations", {{"prompt", "x"}, {"size", "999x9"}}), 400, "size");
    check_openai_error(post_json(port, "/v1/images/generations", {{"prompt", "x"}, {"bogus", 1}}), 400, "bogus");
    check_openai_error(post_json(port, "/v1/images/generations", {{"prompt", "x"}, {"model", "other/model"}}), 404, "model");
    check_openai_error(post_json(port, "/v1/images/generations", {{"prompt", "x"}, {"response_format", "url"}}), 400,
                       "response_format");
    // The wrong modality: the model serves images, not speech.
    check_openai_error(post_json(port, "/v1/audio/speech", {{"input", "hello"}}), 409);

    // The upstream's diffusion chat: the image comes back as an image_url content part.
    const auto chat = post_json(port, "/v1/chat/completions",
                                {{"model", "test/image-model"},
                                 {"messages", json::array({{{"role", "user"}, {"content", "a blue square"}}})},
                                 {"extra_body", {{"width", 8}, {"height", 8}, {"num_inference_steps", 2}}}});
    REQUIRE_MESSAGE(chat.status == 200, chat.body);
    const json c = chat.json();
    CHECK(c["object"] == "chat.completion");
    const std::string url = c["choices"][0]["message"]["content"][0]["image_url"]["url"].get<std::string>();
    REQUIRE(url.rfind("data:image/png;base64,", 0) == 0);
    const std::string chat_png = decode_base64(url.substr(std::string("data:image/png;base64,").size()));
    CHECK(be32(chat_png, 16) == 8);
    check_openai_error(post_json(port, "/v1/chat/completions",
                                 {{"messages", json::array({{{"role", "user"}, {"content", "x"}}})}, {"stream", true}}),
                       400, "stream");
    stop(port);
}

TEST_CASE("speech and audio generation answer raw WAV bytes") {
    host_process host;
    const int port = host.port();
    start_ready(port, "tts");
    const auto speech = post_json(port, "/v1/audio/speech",
                                  {{"model", "test/tts-model"}, {"input", "hello there"}, {"voice", "Vivian"}, {"response_format", "wav"}});
    REQUIRE_MESSAGE(speech.status == 200, speech.body);
    CHECK(speech.headers.at("Content-Type") == "audio/wav");
    CHECK(speech.body.substr(0, 4) == "RIFF");
    CHECK(!speech.headers.at("X-Request-Id").empty());
    check_openai_error(post_json(port, "/v1/audio/speech", {{"input", "x"}, {"response_format", "mp3"}}), 400, "response_format");
    const auto no_input = post_json(port, "/v1/audio/speech", {{"voice", "Vivian"}});
    check_openai_error(no_input, 400, "input");
    CHECK(no_input.json()["error"]["message"].get<std::string>().rfind("input (text):", 0) == 0);
    stop(port);

    start_ready(port, "audio");
    const auto audio = post_json(port, "/v1/audio/generate",
                                 {{"input", "rain on a roof"}, {"audio_length", 0.25}, {"audio_start", 0.0},
                                  {"num_inference_steps", 2}, {"seed", 1}});
    REQUIRE_MESSAGE(audio.status == 200, audio.body);
    CHECK(audio.body.substr(0, 4) == "RIFF");
    check_openai_error(post_json(port, "/v1/audio/generate", {{"input", "x"}, {"audio_length", 500}}), 400, "audio_length");
    check_openai_error(post_json(port, "/v1/audio/generate", {{"input", "x"}, {"speed", 2}}), 400, "speed");
    stop(port);
}

TEST_CASE("videos/sync: JSON and multipart forms give the video bytes with the upstream's headers") {
    host_process host;
    const int port = host.port();
    start_ready(port, "video");
    const auto video = post_json(port, "/v1/videos/sync",
                                 {{"prompt", "a tiny clip"}, {"seconds", "1"}, {"size", "16x8"}, {"fps", 4},
                                  {"num_inference_steps", 2}, {"seed", 5}});
    REQUIRE_MESSAGE(video.status == 200, video.body);
    CHECK(video.body.rfind("YUV4MPEG2", 0) == 0); // the test plugin's raw video
    CHECK(video.body.find("W16 H8") != std::string::npos);
    CHECK(video.headers.at("X-Model") == "test/video-model");
    CHECK(!video.headers.at("X-Request-Id").empty());
    CHECK(std::stod(video.headers.at("X-Inference-Time-S")) >= 0);

    const std::string boundary = "omnihost-test-boundary";
    const auto form = http(port, "POST", "/v1/videos/sync",
                           multipart(boundary, {{"prompt", "from a form"}, {"model", "test/video-model"}, {"seconds", "1"},
                                                {"size", "8x8"}, {"fps", "4"}, {"num_frames", "4"}, {"num_inference_steps", "2"},
                                                {"guidance_scale", "4.5"}}),
                           {{"Content-Type", "multipart/form-data; boundary=" + boundary}});
    REQUIRE_MESSAGE(form.status == 200, form.body);
    CHECK(form.body.find("W8 H8") != std::string::npos);

    check_openai_error(post_json(port, "/v1/videos/sync", {{"prompt", "x"}, {"seconds", "soon"}}), 400, "seconds");
    check_openai_error(post_json(port, "/v1/videos/sync", {{"prompt", "x"}, {"num_frames", 5000}}), 400, "num_frames");
    check_openai_error(post_json(port, "/v1/videos/sync", {{"prompt", "x"}, {"num_inference_steps", 5000}}), 400,
                       "num_inference_steps");
    const auto with_file = http(port, "POST", "/v1/videos/sync",
                                "--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nx\r\n"
                                "--b\r\nContent-Disposition: form-data; name=\"input_reference\"; filename=\"a.png\"\r\n"
                                "Content-Type: image/png\r\n\r\nPNGDATA\r\n--b--\r\n",
                                {{"Content-Type", "multipart/form-data; boundary=b"}});
    // The first-frame file reaches the host's image checks (not an image; and this model takes none).
    check_openai_error(with_file, 400, "input_reference");
    const auto other_file = http(port, "POST", "/v1/videos/sync",
                                 "--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nx\r\n"
                                 "--b\r\nContent-Disposition: form-data; name=\"audio_file\"; filename=\"a.wav\"\r\n"
                                 "Content-Type: audio/wav\r\n\r\nRIFF\r\n--b--\r\n",
                                 {{"Content-Type", "multipart/form-data; boundary=b"}});
    check_openai_error(other_file, 400, "audio_file");
    check_openai_error(post_json(port, "/v1/videos/sync", {{"prompt", "x"}, {"image_reference", {{"image_url", "http://x/y.png"}}}}),
                       400, "image_reference");
    // Chat against a video model names the route that serves it.
    const auto chat = post_json(port, "/v1/chat/completions", {{"messages", json::array({{{"role", "user"}, {"content", "x"}}})}});
    check_openai_error(chat, 400, "model");
    CHECK(chat.json()["error"]["message"].get<std::string>().find("/v1/videos") != std::string::npos);
    stop(port);
}

static json wait_video_settled(int port, const std::string &id) {
    json seen;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    do {
        seen = get(port, "/v1/videos/" + id).json();
    } while ((seen["status"] == "queued" || seen["status"] == "in_progress") && std::chrono::steady_clock::now() < deadline);
    return seen;
}

TEST_CASE("videos as jobs: queued, 429 with Retry-After when the queue is full, list pages, delete") {
    host_process host({.extra_args = {"--queue-depth", "1"}});
    const int port = host.port();
    start_ready(port, "video");
    // One job holds the slot (steps until cancelled), one waits in the queue: the queue is full.
    const json slow = {{"prompt", "hold"}, {"seconds", "1"}, {"size", "8x8"}, {"fps", 4}, {"test_steps", 100000}, {"test_step_ms", 20}};
    const auto running = post_json(port, "/v1/videos", slow);
    REQUIRE_MESSAGE(running.status == 200, running.body);
    const std::string running_id = running.json()["id"].get<std::string>();
    json seen = running.json();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (seen["status"] != "in_progress" && std::chrono::steady_clock::now() < deadline)
        seen = get(port, "/v1/videos/" + running_id).json();
    REQUIRE(seen["status"] == "in_progress");
    CHECK(seen["media_type"].is_null()); // no output file yet
    const auto queued = post_json(port, "/v1/videos", slow);
    REQUIRE_MESSAGE(queued.status == 200, queued.body);
    CHECK(queued.json()["status"] == "queued");
    const std::string queued_id = queued.json()["id"].get<std::string>();
    const auto full = post_json(port, "/v1/videos", slow);
    check_openai_error(full, 429);
    CHECK(std::stoi(full.headers.at("Retry-After")) >= 1);
    // Not finished: no content yet; a variant that does not exist is refused first.
    check_openai_error(get(port, "/v1/videos/" + running_id + "/content"), 409);
    check_openai_error(get(port, "/v1/videos/" + running_id + "/content?variant=thumbnail"), 400, "variant");
    // Pages: newest first by default, oldest first with order=asc, after a cursor.
    const json listed = get(port, "/v1/videos?limit=1").json();
    REQUIRE(listed["data"].size() == 1);
    CHECK(listed["data"][0]["id"] == queued_id);
    CHECK(listed["has_more"] == true);
    const json next = get(port, "/v1/videos?limit=1&after=" + queued_id).json();
    REQUIRE(next["data"].size() == 1);
    CHECK(next["data"][0]["id"] == running_id);
    CHECK(next["has_more"] == false);
    const json oldest = get(port, "/v1/videos?order=asc&limit=1").json();
    REQUIRE(oldest["data"].size() == 1);
    CHECK(oldest["data"][0]["id"] == running_id);
    CHECK(oldest["has_more"] == true);
    const json after_oldest = get(port, "/v1/videos?order=asc&after=" + running_id).json();
    REQUIRE(after_oldest["data"].size() == 1);
    CHECK(after_oldest["data"][0]["id"] == queued_id);
    CHECK(get(port, "/v1/videos?order=desc").json()["data"].size() == 2);
    check_openai_error(get(port, "/v1/videos?limit=0"), 400, "limit");
    check_openai_error(get(port, "/v1/videos?limit=5x"), 400, "limit");
    check_openai_error(get(port, "/v1/videos?order=sideways"), 400, "order");
    check_openai_error(get(port, "/v1/videos?after=%zz"), 400, "after");
    check_openai_error(get(port, "/v1/videos?after=no-such-video"), 400, "after");
    check_openai_error(get(port, "/v1/videos?colour=red"), 400, "colour");
    // Delete both: the queued one at once, the running one once the plugin saw the cancel (on a
    // machine too busy for that within the bounded wait: 202, not deleted yet, and a DELETE after
    // it settled deletes it); either way "deleted":true means the record is gone.
    for (const auto &id : {queued_id, running_id}) {
        auto deleted = http(port, "DELETE", "/v1/videos/" + id);
        if (deleted.status == 202 && id == running_id) {
            CHECK(deleted.json()["deleted"] == false);
            CHECK(get(port, "/v1/videos/" + id).status == 200);
            CHECK(wait_video_settled(port, id)["status"] == "failed");
            deleted = http(port, "DELETE", "/v1/videos/" + id);
        }
        REQUIRE_MESSAGE(deleted.status == 200, deleted.body);
        CHECK(deleted.json()["object"] == "video.deleted");
        CHECK(deleted.json()["deleted"] == true);
        check_openai_error(get(port, "/v1/videos/" + id), 404);
    }
    check_openai_error(get(port, "/v1/videos/no-such-video"), 404);
    check_openai_error(http(port, "DELETE", "/v1/videos/no-such-video"), 404);
    stop(port);
}

TEST_CASE("videos list: a history longer than a page, walked newest first and oldest first by its cursor") {
    host_process host;
    const int port = host.port();
    start_ready(port, "video");
    const json small = {{"prompt", "page"}, {"seconds", "1"}, {"size", "8x8"}, {"fps", 4}, {"num_inference_steps", 1}};
    std::vector<std::string> made; // oldest first
    for (int i = 0; i < 12; ++i) {
        const auto created = post_json(port, "/v1/videos", small);
        REQUIRE_MESSAGE(created.status == 200, created.body);
        made.push_back(created.json()["id"].get<std::string>());
    }
    // Walks every page of 5 (12 = 5 + 5 + 2), each asked after the previous page's last_id.
    auto walk = [&](const std::string &order) {
        std::vector<std::string> seen;
        std::vector<bool> more;
        std::string target = "/v1/videos?limit=5&order=" + order;
        for (int page = 0; page < 6; ++page) {
            const json answer = get(port, target).json();
            REQUIRE(answer["data"].is_array());
            for (const auto &video : answer["data"]) seen.push_back(video["id"].get<std::string>());
            more.push_back(answer["has_more"].get<bool>());
            if (!answer["has_more"].get<bool>()) break;
            CHECK(answer["last_id"] == answer["data"].back()["id"]);
            target = "/v1/videos?limit=5&order=" + order + "&after=" + answer["last_id"].get<std::string>();
        }
        CHECK(more == std::vector<bool>{true, true, false});
        return seen;
    };
    CHECK(walk("asc") == made);
    std::vector<std::string> newest_first(made.rbegin(), made.rend());
    CHECK(walk("desc") == newest_first);
    // After the last video in either order: an empty last page.
    const json beyond = get(port, "/v1/videos?order=asc&after=" + made.back()).json();
    CHECK(beyond["data"].empty());
    CHECK(beyond["has_more"] == false);
    CHECK(beyond["first_id"].is_null());
    const json before_first = get(port, "/v1/videos?after=" + made.front()).json();
    CHECK(before_first["data"].empty());
    // A cursor in the middle: exactly the videos after it.
    const json middle = get(port, "/v1/videos?order=asc&limit=500&after=" + made[6]).json();
    REQUIRE(middle["data"].size() == 5);
    CHECK(middle["first_id"] == made[7]);
    CHECK(middle["has_more"] == false);
}

TEST_CASE("videos as jobs: content and media type of a finished video, none for a failed one, a slow cancel") {
    host_process host;
    const int port = host.port();
    start_ready(port, "video");
    const json small = {{"prompt", "tiny"}, {"seconds", "1"}, {"size", "8x8"}, {"fps", 4}, {"num_inference_steps", 2}};
    const auto made = post_json(port, "/v1/videos", small);
    REQUIRE_MESSAGE(made.status == 200, made.body);
    const std::string id = made.json()["id"].get<std::string>();
    const json done = wait_video_settled(port, id);
    REQUIRE(done["status"] == "completed");
    CHECK(done["media_type"] == "video/x-yuv4mpeg"); // the test plugin's raw video
    for (const std::string target : {"/content", "/content?variant=video"}) {
        const auto content = get(port, "/v1/videos/" + id + target);
        REQUIRE_MESSAGE(content.status == 200, content.body.substr(0, 200));
        CHECK(content.headers.at("Content-Type") == "video/x-yuv4mpeg");
        CHECK(content.body.rfind("YUV4MPEG2", 0) == 0);
    }
    check_openai_error(get(port, "/v1/videos/" + id + "/content?variant=thumbnail"), 400, "variant");
    check_openai_error(get(port, "/v1/videos/" + id + "/content?variant=spritesheet"), 400, "variant");
    check_openai_error(get(port, "/v1/videos/" + id + "/content?variant=%zz"), 400, "variant");
    check_openai_error(get(port, "/v1/videos/" + id + "/content?size=big"), 400, "size");

    json failing = small;
    failing["test_fail"] = "boom";
    const auto broken = post_json(port, "/v1/videos", failing);
    REQUIRE_MESSAGE(broken.status == 200, broken.body);
    const json failed = wait_video_settled(port, broken.json()["id"].get<std::string>());
    CHECK(failed["status"] == "failed");
    CHECK(failed["error"]["code"] == "generation_failed");
    CHECK(failed["media_type"].is_null());

    // A job that does not stop within the bounded wait is not deleted yet, and says so.
    json stubborn = small;
    stubborn.erase("num_inference_steps");
    stubborn.update({{"test_steps", 200}, {"test_step_ms", 20}, {"test_ignore_cancel", true}});
    const auto held = post_json(port, "/v1/videos", stubborn);
    REQUIRE_MESSAGE(held.status == 200, held.body);
    const std::string held_id = held.json()["id"].get<std::string>();
    json seen = held.json();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    // Steps reported: the plugin is in its loop that ignores the cancel (a job cancelled between
    // its claim and the plugin call would settle at once).
    while (seen["progress"] == 0 && seen["status"] != "failed" && seen["status"] != "completed" &&
           std::chrono::steady_clock::now() < deadline)
        seen = get(port, "/v1/videos/" + held_id).json();
    REQUIRE(seen["status"] == "in_progress");
    const auto pending = http(port, "DELETE", "/v1/videos/" + held_id);
    CHECK_MESSAGE(pending.status == 202, pending.body);
    CHECK(pending.json()["deleted"] == false);
    CHECK(pending.json()["status"] == "in_progress");
    CHECK(get(port, "/v1/videos/" + held_id).status == 200);
    const json ended = wait_video_settled(port, held_id);
    CHECK(ended["status"] != "in_progress");
    const auto removed = http(port, "DELETE", "/v1/videos/" + held_id);
    CHECK_MESSAGE(removed.status == 200, removed.body);
    CHECK(removed.json()["deleted"] == true);
    check_openai_error(get(port, "/v1/videos/" + held_id), 404);

    // The playground's job route names a task of the wrong type as such.
    const auto bad_task = post_json(port, "/api/jobs", {{"task", 5}, {"prompt", "x"}});
    CHECK(bad_task.status == 400);
    CHECK(bad_task.json()["field"] == "task");
    CHECK(bad_task.json()["error"].get<std::string>().find("must be a string") != std::string::npos);
    stop(port);
}

TEST_CASE("chat waits its turn in the queue: sent while another generation runs it completes after it, streamed too; a full queue is 429") {
    host_process host({.extra_args = {"--queue-depth", "1"}});
    const int port = host.port();
    start_ready(port, "omni");
    using mono_clock = std::chrono::steady_clock;
    const json first_messages = json::array({{{"role", "user"}, {"content", "one two three four five six seven eight"}}});
    // 11 streamed words, 500 ms each: the first chat holds the slot for over 5 s, long enough for
    // the second to be seen waiting and the third to find the queue full even on a loaded machine.
    const auto first_sent = mono_clock::now();
    auto first = std::async(std::launch::async, [&] {
        return post_json(port, "/v1/chat/completions", {{"messages", first_messages}, {"test_step_ms", 500}});
    });
    json status;
    for (const auto deadline = mono_clock::now() + std::chrono::seconds(20); mono_clock::now() < deadline;) {
        status = get(port, "/api/omni/status").json();
        if (status["job"].is_object()) break;
    }
    REQUIRE_MESSAGE(status["job"].is_object(), status.dump());
    // Sent while the first runs: before, the slot answered 409 busy; now it waits, streamed.
    const json second_messages = json::array({{{"role", "user"}, {"content", "second"}}});
    auto second = std::async(std::launch::async, [&] {
        auto r = post_json(port, "/v1/chat/completions", {{"messages", second_messages}, {"stream", true}});
        return std::make_pair(r, mono_clock::now());
    });
    bool waiting = false;
    for (const auto deadline = mono_clock::now() + std::chrono::seconds(20); mono_clock::now() < deadline && !waiting;)
        waiting = host.log_text().find("waits its turn") != std::string::npos;
    REQUIRE(waiting);
    // The second chat takes the one place of --queue-depth 1: a third is refused with Retry-After.
    const auto third = post_json(port, "/v1/chat/completions", {{"messages", second_messages}});
    check_openai_error(third, 429);
    CHECK(std::stoi(third.headers.at("Retry-After")) >= 1);
    const auto a = first.get();
    const auto [b, b_done] = second.get();
    REQUIRE_MESSAGE(a.status == 200, a.body);
    CHECK(a.json()["choices"][0]["message"]["content"] == "test_plugin heard: one two three four five six seven eight");
    REQUIRE_MESSAGE(b.status == 200, b.body);
    CHECK(b.headers.at("Content-Type").rfind("text/event-stream", 0) == 0);
    CHECK(b.body.find("\"content\":\"second\"") != std::string::npos);
    CHECK(b.body.find("data: [DONE]") != std::string::npos);
    CHECK(b.body.find("\"error\"") == std::string::npos);
    // The second ran after the first let the slot go, and the first held it for its 11 words of
    // 500 ms (at least 10 pauses) after it was sent. Client-side finish times of the two threads
    // would not do: under load the first client thread can be scheduled after the second's.
    CHECK(b_done - first_sent >= std::chrono::milliseconds(10 * 500));
    // The queue goes on after the streams: a fourth chat runs at once.
    CHECK(post_json(port, "/v1/chat/completions", {{"messages", second_messages}}).status == 200);
}

TEST_CASE("diffusion chat sent while a job runs is answered after the job, not refused") {
    host_process host;
    const int port = host.port();
    start_ready(port, "image");
    const auto job = post_json(port, "/api/jobs", {{"task", "image"}, {"prompt", "first"}, {"job_id", "held-first"},
                                                    {"test_steps", 40}, {"test_step_ms", 25}});
    REQUIRE_MESSAGE(job.status == 202, job.body);
    json record = json::object();
    for (const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
         std::chrono::steady_clock::now() < deadline && record.value("state", "") != "running";)
        record = get(port, "/api/jobs/held-first").json();
    REQUIRE(record["state"] == "running");
    const json messages = json::array({{{"role", "user"}, {"content", "a red square"}}});
    const auto chat = post_json(port, "/v1/chat/completions", {{"messages", messages}, {"size", "16x16"}});
    REQUIRE_MESSAGE(chat.status == 200, chat.body);
    const json first = get(port, "/api/jobs/held-first").json();
    CHECK(first["state"] == "succeeded");
    // The chat's job (the newest image job) started once the first had finished.
    const json newest = get(port, "/api/jobs?limit=1").json()["items"][0];
    CHECK(newest["id"] != "held-first");
    CHECK(newest["started_at"].get<std::string>() >= first["finished_at"].get<std::string>());
}

TEST_CASE("chat completions: one answer, or a stream of chunks ending in [DONE]") {
    host_process host;
    const int port = host.port();
    start_ready(port, "omni");
    const json messages = json::array({{{"role", "user"}, {"content", "echo this please"}}});
    const auto whole = post_json(port, "/v1/chat/completions", {{"model", "test/omni-model"}, {"messages", messages}});
    REQUIRE_MESSAGE(whole.status == 200, whole.body);
    const json w = whole.json();
    CHECK(w["object"] == "chat.completion");
    CHECK(w["choices"][0]["message"]["role"] == "assistant");
    CHECK(w["choices"][0]["finish_reason"] == "stop");
    const std::string text = w["choices"][0]["message"]["content"].get<std::string>();
    CHECK(!text.empty());

    const auto streamed = post_json(port, "/v1/chat/completions", {{"messages", messages}, {"stream", true}, {"max_tokens", 64}});
    REQUIRE_MESSAGE(streamed.status == 200, streamed.body);
    CHECK(streamed.headers.at("Content-Type").rfind("text/event-stream", 0) == 0);
    std::istringstream lines(streamed.body);
    std::string line, joined;
    std::vector<json> chunks;
    bool done = false;
    while (std::getline(lines, line)) {
        if (line.empty()) continue;
        REQUIRE(line.rfind("data: ", 0) == 0);
        const std::string data = line.substr(6);
        if (data == "[DONE]") {
            done = true;
            continue;
        }
        REQUIRE_FALSE(done);
        chunks.push_back(json::parse(data));
    }
    CHECK(done);
    REQUIRE(chunks.size() >= 3);
    CHECK(chunks.front()["object"] == "chat.completion.chunk");
    CHECK(chunks.front()["choices"][0]["delta"]["role"] == "assistant");
    CHECK(chunks.back()["choices"][0]["finish_reason"] == "stop");
    for (const auto &chunk : chunks) {
        CHECK(chunk["id"] == chunks.front()["id"]);
        const json &delta = chunk["choices"][0]["delta"];
        if (delta.contains("content")) joined += delta["content"].get<std::string>();
    }
    CHECK(joined == text);
    check_openai_error(post_json(port, "/v1/chat/completions", {{"messages", json::array()}}), 400, "messages");
    check_openai_error(post_json(port, "/v1/chat/completions", {{"messages", messages}, {"top_k", 3}}), 400, "top_k");
    stop(port);
}

}
