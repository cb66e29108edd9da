// Image-to-video end to end: the real omnihost, the real video_diffusion plugin of this build and
// the demo models the build writes (<build>/data/models): the TI2V demo (Wan2.2 TI2V-5B layout,
// box-filter VAE), the I2V demo (image required) and the text-to-video demo (image refused).
//
// The TI2V demo's VAE returns an image as its 16x16 block means, and TI2V keeps the image's latent
// as the first frame, so the first frame of the MP4 must resemble the input. Tolerance: mean
// absolute difference below 14 levels (of 255) against the input resized to the video's size.
// The block means alone cost about 5 levels on this picture and H.264 a few more; a video that
// ignored the image, or an image taken upside down or in other colours, is 40+ levels off (the
// inverted control below checks that the measure can fail).
#include <doctest/doctest.h>

#include <Poco/Base64Decoder.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <random>
#include <sstream>
#include <thread>

#include "host_process.h"
#include "image_fixtures.h"
#include "media/image_decode.h"
#include "media/media_probe.h"

using namespace omnihost_test;
using nlohmann::json;
namespace ti = omnihost::test_images;

namespace {

constexpr double kFirstFrameTolerance = 14.0;

std::string data_url(const std::string &mime, const std::vector<uint8_t> &bytes) {
    std::string out = "data:" + mime + ";base64,";
    out += ti::base64(bytes);
    return out;
}

std::vector<uint8_t> decode_b64(const std::string &text) {
    std::istringstream in(text);
    Poco::Base64Decoder decoder(in);
    const std::string s((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
    return {s.begin(), s.end()};
}

// Area-average resize by an integer factor (the test pictures are made at 2x the video's size).
std::vector<uint8_t> shrink(const std::vector<uint8_t> &rgb, int w, int h, int factor) {
    const int ow = w / factor, oh = h / factor;
    std::vector<uint8_t> out(size_t(ow) * oh * 3);
    for (int y = 0; y < oh; ++y)
        for (int x = 0; x < ow; ++x)
            for (int c = 0; c < 3; ++c) {
                int sum = 0;
                for (int dy = 0; dy < factor; ++dy)
                    for (int dx = 0; dx < factor; ++dx) sum += rgb[(size_t(y * factor + dy) * w + x * factor + dx) * 3 + c];
                out[(size_t(y) * ow + x) * 3 + c] = uint8_t((sum + factor * factor / 2) / (factor * factor));
            }
    return out;
}

double mean_abs_diff(const uint8_t *a, const uint8_t *b, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += std::abs(int(a[i]) - int(b[i]));
    return sum / double(n);
}

std::vector<uint8_t> inverted(std::vector<uint8_t> rgb) {
    for (auto &v : rgb) v = uint8_t(255 - v);
    return rgb;
}

// Waits (polling the status, no fixed sleep) until the loaded model's plugin has said what images
// it takes; returns status.image_input.
json wait_for_image_input(int port, double seconds = 30) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    json status;
    while (std::chrono::steady_clock::now() < deadline) {
        status = get(port, "/api/omni/status").json();
        if (status.is_object() && status.contains("image_input") && status["image_input"].is_object())
            return status["image_input"];
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // poll interval, not ordering
    }
    return status.value("image_input", json());
}

host_process start_demo(std::vector<std::string> extra = {}) {
    return host_process({.extra_args = extra, .plugin_dir = BUILD_PLUGIN_DIR, .shared_data_dir = DEMO_DATA_DIR});
}

void start_and_wait(host_process &host, const std::string &recipe) {
    const auto started = post(host.port(), "/api/omni/start", {{"recipe", recipe}});
    REQUIRE_MESSAGE(started.status == 202, started.body);
    const json status = wait_for_state(host.port(), "ready", 180);
    REQUIRE_MESSAGE(status.value("state", "") == "ready", std::string(status.dump() + "\n" + host.log_text()));
}

// A refusal must be a 4xx naming `field`, and the host must go on serving.
void check_refused(int port, const json &body, const std::string &field, const std::string &words) {
    const auto answer = post(port, "/api/omni/generate-video", body);
    CAPTURE(answer.body);
    CHECK(answer.status >= 400);
    CHECK(answer.status < 500);
    const json j = answer.json();
    CHECK(j.value("field", "") == field);
    CHECK(j.value("error", j.value("detail", "")).find(words) != std::string::npos);
    CHECK(get(port, "/api/omni/status").json()["state"] == "ready");
}

struct first_frame {
    std::vector<uint8_t> rgb;
    int width = 0, height = 0;
    json metadata;
};

first_frame generate(int port, const json &body) {
    const auto answer = post(port, "/api/omni/generate-video", body);
    REQUIRE_MESSAGE(answer.status == 200, answer.body);
    const json j = answer.json();
    REQUIRE(j["mime_type"] == "video/mp4");
    const auto info = omnihost::media::probe_media(decode_b64(j["video_base64"].get<std::string>()), true);
    REQUIRE(info.frames_decoded >= 1);
    first_frame f;
    f.width = info.width;
    f.height = info.height;
    f.rgb.assign(info.rgb24.begin(), info.rgb24.begin() + long(size_t(info.width) * info.height * 3));
    f.metadata = j["metadata"];
    return f;
}

} // namespace

TEST_SUITE("i2v_e2e") {

TEST_CASE("TI2V demo: an image in, an MP4 out whose first frame resembles it") {
    host_process host = start_demo();
    const int port = host.port();
    start_and_wait(host, "demo-wan-ti2v-tiny");
    const json modes = wait_for_image_input(port);
    REQUIRE_MESSAGE(modes.is_object(), (std::string("the plugin never said what images the loaded model takes\n") + host.log_text()));
    CHECK(modes["image"] == "accepted");

    const int w = 128, h = 128;
    const auto source = ti::pattern_rgb(2 * w, 2 * h);
    const auto png = ti::encode_rgb(source, 2 * w, 2 * h, "png");
    const json base = {{"prompt", "a test picture comes alive"}, {"seed", 7}, {"height", h}, {"width", w}};

    json with_png = base;
    with_png["image"] = data_url("image/png", png);
    const first_frame a = generate(port, with_png);
    REQUIRE(a.width == w);
    REQUIRE(a.height == h);
    const auto expected = shrink(source, 2 * w, 2 * h, 2);
    const double close = mean_abs_diff(a.rgb.data(), expected.data(), expected.size());
    const auto other = inverted(expected);
    const double far = mean_abs_diff(a.rgb.data(), other.data(), other.size());
    MESSAGE("first frame vs input: " << close << " levels; vs the inverted input: " << far);
    CHECK(close < kFirstFrameTolerance);
    CHECK(far > 40.0);
    CHECK(a.metadata.value("input_image_sha256", "") == omnihost::media::sha256_hex(png.data(), png.size()));

    // The inverted picture as JPEG (plain base64, no data: prefix): its first frame follows it.
    const auto jpg = ti::encode_rgb(inverted(source), 2 * w, 2 * h, "mjpeg");
    json with_jpg = base;
    with_jpg["image"] = ti::base64(jpg);
    with_jpg["seed"] = 8;
    const first_frame b = generate(port, with_jpg);
    CHECK(mean_abs_diff(b.rgb.data(), other.data(), other.size()) < kFirstFrameTolerance);
    CHECK(b.metadata.value("input_image_sha256", "") == omnihost::media::sha256_hex(jpg.data(), jpg.size()));

    // WebP is taken too; and TI2V without an image is text-to-video (no hash in the metadata).
    json with_webp = base;
    with_webp["image"] = data_url("image/webp", ti::encode_rgb(source, 2 * w, 2 * h, "libwebp", true));
    const first_frame c = generate(port, with_webp);
    CHECK(mean_abs_diff(c.rgb.data(), expected.data(), expected.size()) < kFirstFrameTolerance);
    const first_frame text_only = generate(port, base);
    CHECK_FALSE(text_only.metadata.contains("input_image_sha256"));
}

TEST_CASE("TI2V demo: bad images and sizes are refused with 4xx naming the field; the host keeps serving") {
    host_process host = start_demo({"--max-image-bytes", "60000"});
    const int port = host.port();
    start_and_wait(host, "demo-wan-ti2v-tiny");
    REQUIRE(wait_for_image_input(port).is_object());
    CHECK(get(port, "/api/omni/status").json()["limits"]["max_image_bytes"] == 60000);

    const auto source = ti::pattern_rgb(64, 64);
    const auto png = ti::encode_rgb(source, 64, 64, "png");
    const json base = {{"prompt", "x"}, {"seed", 1}, {"height", 64}, {"width", 64}};
    auto with = [&](const std::string &field, const json &value) {
        json body = base;
        body[field] = value;
        return body;
    };

    std::vector<uint8_t> truncated(png.begin(), png.begin() + long(png.size() / 2));
    check_refused(port, with("image", data_url("image/png", truncated)), "image", "corrupt");
    auto huge = png;
    for (int i : {16, 20}) huge[size_t(i)] = 0, huge[size_t(i) + 1] = 1, huge[size_t(i) + 2] = 0x86, huge[size_t(i) + 3] = 0xA0;
    check_refused(port, with("image", data_url("image/png", huge)), "image", "100000 pixels wide");
    std::vector<uint8_t> noise(256 * 256 * 3);
    std::mt19937 random(5);  // incompressible: PNG cannot shrink it below the limit
    for (auto &v : noise) v = uint8_t(random());
    const auto big = ti::encode_rgb(noise, 256, 256, "png");
    REQUIRE(big.size() > 60000);
    check_refused(port, with("image", data_url("image/png", big)), "image", "the limit is 60000");
    check_refused(port, with("image", data_url("image/gif", png)), "image", "'image/gif'");
    check_refused(port, with("image", data_url("image/jpeg", png)), "image", "but the bytes are image/png");
    check_refused(port, with("image", "not base64 at all!"), "image", "not valid base64");
    check_refused(port, with("image", ""), "image", "empty");
    check_refused(port, with("image", 42), "image", "must be a string");
    check_refused(port, with("last_image", data_url("image/png", png)), "last_image", "takes no last frame");
    // Sizes this model cannot take: TI2V needs multiples of 32 (VAE 16 x patch 2).
    json odd = with("image", data_url("image/png", png));
    odd["height"] = 80;
    const auto refused_size = post(port, "/api/omni/generate-video", odd);
    CAPTURE(refused_size.body);
    CHECK(refused_size.status == 400);
    CHECK(refused_size.body.find("height") != std::string::npos);

    // Still serving: a good image generates.
    const first_frame ok = generate(port, with("image", data_url("image/png", png)));
    CHECK(ok.width == 64);
}

TEST_CASE("a text-to-video model refuses an image; an image-to-video model requires one") {
    const auto png = ti::encode_rgb(ti::pattern_rgb(64, 64), 64, 64, "png");
    {
        host_process host = start_demo();
        const int port = host.port();
        start_and_wait(host, "demo-wan-tiny");
        const json modes = wait_for_image_input(port);
        REQUIRE(modes.is_object());
        CHECK(modes["image"] == "refused");
        check_refused(port, {{"prompt", "x"}, {"image", data_url("image/png", png)}}, "image", "takes no input image");
        CHECK(post(port, "/api/omni/generate-video", {{"prompt", "x"}, {"seed", 1}}).status == 200);
    }
    {
        host_process host = start_demo();
        const int port = host.port();
        start_and_wait(host, "demo-wan-i2v-tiny");
        const json modes = wait_for_image_input(port);
        REQUIRE(modes.is_object());
        CHECK(modes["image"] == "required");
        check_refused(port, {{"prompt", "x"}, {"seed", 1}}, "image", "needs an input image");
        const auto ok = post(port, "/api/omni/generate-video",
                             {{"prompt", "x"}, {"seed", 1}, {"image", data_url("image/png", png)}});
        CHECK_MESSAGE(ok.status == 200, ok.body);
    }
}

}
