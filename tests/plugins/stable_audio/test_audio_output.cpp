// The plugin's output path on synthetic audio: peak handling (scales, never clips, refuses NaN),
// WAV bytes read back field by field (format, rate, channels, interleaving, LIST/INFO tags), FLAC
// and Ogg/Opus decoded back through libavformat, several waveforms, base64.
#include "audio_output.h"

#include "media/audio_encode.h"
#include "media/media_error.h"
#include "media/media_probe.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace omnihost;
using namespace omnihost::stable_audio;

namespace {

uint32_t u32(const std::vector<uint8_t> &b, size_t at) {
    return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 | uint32_t(b[at + 3]) << 24;
}
uint16_t u16(const std::vector<uint8_t> &b, size_t at) { return uint16_t(b[at] | b[at + 1] << 8); }
int16_t s16(const std::vector<uint8_t> &b, size_t at) { return static_cast<int16_t>(u16(b, at)); }

// RIFF chunks of a WAV file: id -> (offset of the payload, size). LIST chunks are keyed "LIST".
std::map<std::string, std::pair<size_t, uint32_t>> chunks(const std::vector<uint8_t> &wav) {
    std::map<std::string, std::pair<size_t, uint32_t>> out;
    REQUIRE(wav.size() >= 12);
    REQUIRE(std::string(wav.begin(), wav.begin() + 4) == "RIFF");
    REQUIRE(std::string(wav.begin() + 8, wav.begin() + 12) == "WAVE");
    CHECK(u32(wav, 4) == wav.size() - 8);
    size_t at = 12;
    while (at + 8 <= wav.size()) {
        const std::string id(wav.begin() + at, wav.begin() + at + 4);
        const uint32_t size = u32(wav, at + 4);
        out[id] = {at + 8, size};
        at += 8 + size + (size % 2);
    }
    CHECK(at == wav.size());
    return out;
}

// INFO sub-chunks of the LIST chunk: id -> text.
std::map<std::string, std::string> info_tags(const std::vector<uint8_t> &wav) {
    std::map<std::string, std::string> tags;
    const auto c = chunks(wav);
    REQUIRE(c.count("LIST"));
    const auto [start, size] = c.at("LIST");
    REQUIRE(std::string(wav.begin() + start, wav.begin() + start + 4) == "INFO");
    size_t at = start + 4;
    while (at + 8 <= start + size) {
        const std::string id(wav.begin() + at, wav.begin() + at + 4);
        const uint32_t n = u32(wav, at + 4);
        REQUIRE(n >= 1);
        CHECK(wav[at + 8 + n - 1] == 0);  // NUL-terminated
        tags[id] = std::string(wav.begin() + at + 8, wav.begin() + at + 8 + n - 1);
        at += 8 + n + (n % 2);
    }
    CHECK(at == start + size);
    return tags;
}

// [channels, frames] planar test signal: channel c is a sine at 220 * (c + 1) Hz with `amp`.
std::vector<float> sines(int channels, int64_t frames, int rate, float amp) {
    std::vector<float> x(size_t(channels) * frames);
    for (int c = 0; c < channels; ++c)
        for (int64_t i = 0; i < frames; ++i)
            x[size_t(c) * frames + i] = amp * float(std::sin(2 * M_PI * 220.0 * (c + 1) * double(i) / rate));
    return x;
}

std::string lookup(const std::map<std::string, std::string> &m, std::string key) {
    for (const auto &[k, v] : m) {
        std::string lk = k;
        std::transform(lk.begin(), lk.end(), lk.begin(), [](unsigned char ch) { return std::tolower(ch); });
        if (lk == key) return v;
    }
    return "";
}

bool contains_bytes(const std::vector<uint8_t> &hay, const std::string &needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

}  // namespace

TEST_SUITE("output") {

TEST_CASE("peak handling scales instead of clipping, and refuses broken samples") {
    std::vector<float> loud = {0.5f, -3.0f, 1.5f, 0.0f};
    const media::peak_report n = media::apply_peak_handling(loud.data(), loud.size(), media::peak_mode::normalize);
    CHECK(n.peak_in == doctest::Approx(3.0));
    CHECK(n.scaled);
    CHECK(n.gain == doctest::Approx(1.0 / 3.0));
    CHECK(loud[1] == doctest::Approx(-1.0f));
    CHECK(loud[2] == doctest::Approx(0.5f));  // shape kept: every sample scaled by the same gain

    // normalize lifts quiet audio to peak 1 (the playground's behaviour); limit leaves it alone.
    std::vector<float> quiet = {0.25f, -0.125f};
    std::vector<float> quiet2 = quiet;
    CHECK(media::apply_peak_handling(quiet.data(), quiet.size(), media::peak_mode::normalize).scaled);
    CHECK(quiet[0] == doctest::Approx(1.0f));
    CHECK(quiet[1] == doctest::Approx(-0.5f));
    const media::peak_report l = media::apply_peak_handling(quiet2.data(), quiet2.size(), media::peak_mode::limit);
    CHECK_FALSE(l.scaled);
    CHECK(l.gain == 1.0);
    CHECK(quiet2[0] == 0.25f);
    std::vector<float> over = {2.0f, -1.0f};
    CHECK(media::apply_peak_handling(over.data(), over.size(), media::peak_mode::limit).scaled);
    CHECK(over[0] == doctest::Approx(1.0f));
    CHECK(over[1] == doctest::Approx(-0.5f));

    std::vector<float> silence(8, 0.0f);
    CHECK_FALSE(media::apply_peak_handling(silence.data(), silence.size(), media::peak_mode::normalize).scaled);
    std::vector<float> bad = {0.1f, NAN};
    CHECK_THROWS_AS(media::apply_peak_handling(bad.data(), bad.size(), media::peak_mode::normalize), media::media_error);
    std::vector<float> inf = {INFINITY};
    CHECK_THROWS_AS(media::apply_peak_handling(inf.data(), inf.size(), media::peak_mode::limit), media::media_error);
}

TEST_CASE("WAV: 16-bit PCM at the given rate and channels, interleaved, tags in LIST/INFO") {
    const int rate = 44100, channels = 2;
    const int64_t frames = 11025;
    const std::vector<float> x = sines(channels, frames, rate, 0.8f);
    media::audio_encode_options o;
    o.metadata = {{"title", "rain on a roof"}, {"prompt", "rain on a roof"}, {"seed", "42"},
                  {"steps", "8"}, {"model", "recipe:demo"}, {"encoder", "omnihost stable_audio"}};
    const std::vector<uint8_t> wav = media::encode_audio(x.data(), frames, channels, rate, o);
    const auto c = chunks(wav);
    REQUIRE(c.count("fmt "));
    REQUIRE(c.count("data"));
    const size_t f = c.at("fmt ").first;
    CHECK(u16(wav, f) == 1);  // PCM
    CHECK(u16(wav, f + 2) == channels);
    CHECK(u32(wav, f + 4) == uint32_t(rate));
    CHECK(u16(wav, f + 14) == 16);
    CHECK(c.at("data").second == uint32_t(frames * channels * 2));
    CHECK(c.at("LIST").first < c.at("data").first);  // INFO before the samples
    // Interleaving: frame i holds channel 0 then channel 1, each x * 32767 rounded.
    const size_t d = c.at("data").first;
    for (int64_t i : {int64_t(1), int64_t(100), frames - 1}) {
        CHECK(s16(wav, d + size_t(i) * 4) == int16_t(std::lrint(x[size_t(i)] * 32767.0)));
        CHECK(s16(wav, d + size_t(i) * 4 + 2) == int16_t(std::lrint(x[size_t(frames + i)] * 32767.0)));
    }
    const auto tags = info_tags(wav);
    CHECK(tags.at("INAM") == "rain on a roof");
    CHECK(tags.at("ISFT") == "omnihost stable_audio");
    const std::string comment = tags.at("ICMT");
    for (const char *line : {"prompt: rain on a roof", "seed: 42", "steps: 8", "model: recipe:demo"})
        CHECK_MESSAGE(comment.find(line) != std::string::npos, comment);

    // libavformat reads it back the same way.
    const media::media_info info = media::probe_media(wav, false);
    CHECK(info.format == "wav");
    CHECK(info.channels == channels);
    CHECK(info.sample_rate == rate);
    CHECK(info.duration_s == doctest::Approx(0.25).epsilon(0.01));
    CHECK(lookup(info.metadata, "title") == "rain on a roof");
    CHECK(lookup(info.metadata, "comment").find("seed: 42") != std::string::npos);

    // Odd-length text is padded; no metadata means no LIST chunk.
    media::audio_encode_options odd;
    odd.metadata = {{"title", "abc"}};
    CHECK(info_tags(media::encode_audio(x.data(), frames, channels, rate, odd)).at("INAM") == "abc");
    CHECK(chunks(media::encode_audio(x.data(), frames, channels, rate, {})).count("LIST") == 0);
    // Mono and other rates are kept as given.
    const std::vector<float> mono = sines(1, 800, 8000, 0.5f);
    const auto m = media::probe_media(media::encode_audio(mono.data(), 800, 1, 8000, {}), false);
    CHECK(m.channels == 1);
    CHECK(m.sample_rate == 8000);
}

TEST_CASE("FLAC and Ogg/Opus through FFmpeg decode back with rate, channels and tags") {
    const int rate = 44100;
    const int64_t frames = 22050;
    const std::vector<float> x = sines(2, frames, rate, 0.9f);
    media::audio_encode_options o;
    o.metadata = {{"title", "a bell"}, {"prompt", "a bell"}, {"seed", "7"}, {"model", "stabilityai/stable-audio-open-1.0"}};

    o.format = media::audio_format::flac;
    const std::vector<uint8_t> flac = media::encode_audio(x.data(), frames, 2, rate, o);
    REQUIRE(flac.size() > 4);
    CHECK(std::string(flac.begin(), flac.begin() + 4) == "fLaC");
    const media::media_info fi = media::probe_media(flac, false);
    CHECK(fi.audio_codec == "flac");
    CHECK(fi.channels == 2);
    CHECK(fi.sample_rate == rate);
    CHECK(fi.duration_s == doctest::Approx(0.5).epsilon(0.02));
    CHECK(lookup(fi.metadata, "prompt") == "a bell");
    CHECK(lookup(fi.metadata, "seed") == "7");
    CHECK(lookup(fi.metadata, "title") == "a bell");

    o.format = media::audio_format::ogg_opus;
    const std::vector<uint8_t> ogg = media::encode_audio(x.data(), frames, 2, rate, o);
    REQUIRE(ogg.size() > 4);
    CHECK(std::string(ogg.begin(), ogg.begin() + 4) == "OggS");
    const media::media_info oi = media::probe_media(ogg, false);
    CHECK(oi.audio_codec == "opus");
    CHECK(oi.channels == 2);
    CHECK(oi.sample_rate == 48000);  // Opus codes at 48 kHz only
    CHECK(oi.duration_s == doctest::Approx(0.5).epsilon(0.05));
    CHECK(contains_bytes(ogg, "a bell"));  // the OpusTags comment packet
    CHECK(contains_bytes(ogg, "stabilityai/stable-audio-open-1.0"));

    CHECK(media::parse_audio_format("opus") == media::audio_format::ogg_opus);
    CHECK(std::string(media::audio_mime_type(media::audio_format::flac)) == "audio/flac");
    CHECK_THROWS_AS(media::parse_audio_format("mp3"), media::media_error);
    CHECK_THROWS_AS(media::encode_audio(x.data(), 0, 2, rate, {}), media::media_error);
    CHECK_THROWS_AS(media::encode_audio(x.data(), frames, 0, rate, {}), media::media_error);
}

TEST_CASE("encode_waveforms: one file per waveform, each peak-handled and tagged") {
    const int rate = 44100;
    const int64_t frames = 4410;
    std::vector<float> batch = sines(2, frames, rate, 2.5f);  // waveform 0 would clip
    const std::vector<float> second = sines(2, frames, rate, 0.5f);
    batch.insert(batch.end(), second.begin(), second.end());
    output_request r;
    r.sampling_rate = rate;
    r.peak_mode = "limit";
    r.tags = {{"title", "two"}, {"seed", "3"}};
    const std::vector<encoded_waveform> files = encode_waveforms(batch.data(), 2, 2, frames, r);
    REQUIRE(files.size() == 2);
    CHECK(files[0].mime_type == "audio/wav");
    CHECK(files[0].peak.scaled);
    CHECK(files[0].peak.peak_in == doctest::Approx(2.5).epsilon(0.01));
    CHECK_FALSE(files[1].peak.scaled);
    const auto t0 = info_tags(files[0].bytes);
    CHECK(t0.at("ICMT").find("peak_handling: limit: peak 2.5") != std::string::npos);
    CHECK(t0.at("ICMT").find("waveform: 1 of 2") != std::string::npos);
    CHECK(info_tags(files[1].bytes).at("ICMT").find("left as is") != std::string::npos);
    const nlohmann::json pj = peak_json(files, "limit");
    CHECK(pj["mode"] == "limit");
    CHECK(pj["per_waveform"].size() == 2);
    CHECK(pj["per_waveform"][0]["scaled"] == true);
    const auto extra = extra_waveforms_base64(files);
    REQUIRE(extra.size() == 1);
    CHECK(extra[0] == base64_encode(files[1].bytes));

    std::vector<float> broken(size_t(2) * frames, 0.1f);
    broken[5] = NAN;
    CHECK_THROWS_AS(encode_waveforms(broken.data(), 1, 2, frames, r), media::media_error);
}

TEST_CASE("base64") {
    auto b = [](const std::string &s) { return base64_encode(std::vector<uint8_t>(s.begin(), s.end())); };
    CHECK(b("") == "");
    CHECK(b("f") == "Zg==");
    CHECK(b("fo") == "Zm8=");
    CHECK(b("foo") == "Zm9v");
    CHECK(b("foobar") == "Zm9vYmFy");
}

}
