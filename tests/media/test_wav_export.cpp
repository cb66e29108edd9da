#include "media/media_error.h"
#include "media/media_probe.h"
#include "media/wav_export.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

using namespace omnihost::media;

TEST_SUITE("wav_export") {
TEST_CASE("stereo s16 WAV reads back with the right format and length") {
    const int rate = 44100, frames = rate / 2, channels = 2;
    std::vector<float> pcm(size_t(frames) * channels);
    for (int i = 0; i < frames; ++i) {
        pcm[2 * i] = std::sin(2 * M_PI * 440.0 * i / rate);
        pcm[2 * i + 1] = 1.5f;  // clipped to full scale
    }
    auto wav = encode_wav(pcm.data(), frames, channels, rate);
    CHECK(wav.size() == 44 + size_t(frames) * channels * 2);
    auto info = probe_media(wav, false);
    CHECK(info.format == "wav");
    CHECK(info.audio_codec == "pcm_s16le");
    CHECK(info.channels == 2);
    CHECK(info.sample_rate == rate);
    CHECK(info.duration_s == doctest::Approx(0.5).epsilon(0.01));
    int16_t right0;
    std::memcpy(&right0, &wav[44 + 2], 2);
    CHECK(right0 == 32767);
}

TEST_CASE("float WAV keeps the samples bit for bit") {
    std::vector<float> pcm = {0.25f, -0.5f, 0.125f};
    auto wav = encode_wav(pcm.data(), 3, 1, 64, wav_sample_format::f32);
    auto info = probe_media(wav, false);
    CHECK(info.audio_codec == "pcm_f32le");
    CHECK(info.sample_rate == 64);
    float last;
    std::memcpy(&last, &wav[wav.size() - 4], 4);
    CHECK(last == 0.125f);
}

TEST_CASE("bad parameters are named") {
    float x = 0;
    CHECK_THROWS_WITH_AS(encode_wav(&x, 1, 0, 44100), doctest::Contains("channels"), media_error);
    CHECK_THROWS_WITH_AS(encode_wav(&x, 1, 1, 0), doctest::Contains("sample_rate"), media_error);
}
}
