#include "media/media_error.h"
#include "media/media_probe.h"
#include "media/mp4_export.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

using namespace omnihost::media;

namespace {

// Smooth moving gradients (compress well, so decoded pixels must stay close to the source).
std::vector<uint8_t> make_frames(int frames, int w, int h) {
    std::vector<uint8_t> rgb(size_t(frames) * w * h * 3);
    for (int f = 0; f < frames; ++f)
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                uint8_t *p = &rgb[((size_t(f) * h + y) * w + x) * 3];
                p[0] = uint8_t((x * 255) / std::max(1, w - 1));
                p[1] = uint8_t((y * 255) / std::max(1, h - 1));
                p[2] = uint8_t((f * 255) / std::max(1, frames - 1));
            }
    return rgb;
}

size_t index_of(const std::vector<std::string> &v, const std::string &s) {
    return size_t(std::find(v.begin(), v.end(), s) - v.begin());
}

}  // namespace

TEST_SUITE("mp4_export") {
TEST_CASE("frames -> MP4 decodes back with every frame, size, fps and metadata") {
    const int frames = 9, w = 64, h = 48;
    auto rgb = make_frames(frames, w, h);
    mp4_options opt;
    opt.fps = 16;
    opt.metadata = {{"prompt", "a cat & a \"dog\" — ünïcode"}, {"seed", "42"}, {"steps", "4"},
                    {"model", "demo-wan-tiny"}};
    auto mp4 = encode_mp4(rgb.data(), frames, w, h, opt);
    REQUIRE(mp4.size() > 100);

    auto info = probe_media(mp4, true);
    CHECK(info.video_codec == "h264");
    CHECK(info.pixel_format == "yuv420p");
    CHECK(info.width == w);
    CHECK(info.height == h);
    CHECK(info.fps == doctest::Approx(16.0));
    CHECK(info.frames_decoded == frames);  // the last frame survives the edit list
    CHECK(info.duration_s == doctest::Approx(frames / 16.0).epsilon(0.01));
    CHECK(info.metadata["prompt"] == opt.metadata["prompt"]);
    CHECK(info.metadata["seed"] == "42");
    CHECK(info.metadata["steps"] == "4");
    CHECK(info.metadata["model"] == "demo-wan-tiny");

    // Pixels: lossy, but a smooth gradient at crf 25 stays close on average.
    REQUIRE(info.rgb24.size() == rgb.size());
    double sum = 0;
    for (size_t i = 0; i < rgb.size(); ++i) sum += std::abs(int(info.rgb24[i]) - int(rgb[i]));
    CHECK(sum / double(rgb.size()) < 6.0);
}

TEST_CASE("faststart: moov comes before mdat") {
    auto rgb = make_frames(5, 32, 32);
    auto mp4 = encode_mp4(rgb.data(), 5, 32, 32, mp4_options{});
    auto info = probe_media(mp4, false);
    REQUIRE(!info.top_level_boxes.empty());
    CHECK(info.top_level_boxes.front() == "ftyp");
    const size_t moov = index_of(info.top_level_boxes, "moov");
    const size_t mdat = index_of(info.top_level_boxes, "mdat");
    REQUIRE(moov < info.top_level_boxes.size());
    REQUIRE(mdat < info.top_level_boxes.size());
    CHECK(moov < mdat);
}

TEST_CASE("a single frame and a long clip keep their frame counts") {
    for (int frames : {1, 81}) {
        auto rgb = make_frames(frames, 32, 16);
        mp4_options opt;
        opt.fps = 24;
        auto info = probe_media(encode_mp4(rgb.data(), frames, 32, 16, opt), true);
        CHECK(info.frames_decoded == frames);
        CHECK(info.fps == doctest::Approx(24.0));
    }
}

TEST_CASE("bad sizes are refused with the field named") {
    auto rgb = make_frames(2, 34, 34);
    auto message_of = [&](int frames, int w, int h, mp4_options o) -> std::string {
        try {
            encode_mp4(rgb.data(), frames, w, h, o);
        } catch (const media_error &e) {
            return e.what();
        }
        return "";
    };
    CHECK(message_of(2, 33, 32, {}).find("width must be even") != std::string::npos);
    CHECK(message_of(2, 32, 31, {}).find("height must be even") != std::string::npos);
    CHECK(message_of(0, 32, 32, {}).find("frames") != std::string::npos);
    CHECK(message_of(2, 0, 32, {}).find("width") != std::string::npos);
    mp4_options bad_fps;
    bad_fps.fps = 0;
    CHECK(message_of(2, 32, 32, bad_fps).find("fps") != std::string::npos);
}

TEST_CASE("garbage bytes are a clear probe error, not a crash") {
    std::vector<uint8_t> junk(1000, 0x5a);
    CHECK_THROWS_AS(probe_media(junk, true), media_error);
}
}
