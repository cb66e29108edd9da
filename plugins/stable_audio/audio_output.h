// The pipeline's float waveforms -> the files the host hands out: peak handling (never silent
// clipping), then WAV / FLAC / Ogg-Opus with the generation parameters as tags. No libtorch, so
// it is unit-tested on synthetic audio.
#pragma once

#include "media/audio_encode.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace omnihost::stable_audio {

struct output_request {
    std::string format = "wav";          // wav | flac | ogg | opus
    std::string peak_mode = "normalize"; // normalize | limit
    int64_t sampling_rate = 0;
    std::vector<std::pair<std::string, std::string>> tags;  // written into every file
};

struct encoded_waveform {
    std::vector<uint8_t> bytes;
    std::string mime_type;
    media::peak_report peak;
};

// `audio`: batch x channels x samples float32, contiguous ([B, C, S] as the pipeline returns it).
// Each waveform is peak-handled on its own and tagged with what was done ("peak_handling").
// Throws media_error (non-finite samples, encoder failures).
std::vector<encoded_waveform> encode_waveforms(const float *audio, int64_t batch, int64_t channels,
                                               int64_t samples, const output_request &request);

// {"mode", "per_waveform": [{"peak_in", "gain", "scaled"}...]} for the result metadata.
nlohmann::json peak_json(const std::vector<encoded_waveform> &files, const std::string &mode);

// Waveforms 1..B-1 as base64 strings (waveform 0 is the result's payload).
std::vector<std::string> extra_waveforms_base64(const std::vector<encoded_waveform> &files);

std::string base64_encode(const std::vector<uint8_t> &bytes);

}  // namespace omnihost::stable_audio
