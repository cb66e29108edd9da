// PCM float samples -> a WAV file in memory (RIFF/WAVE, 16-bit integer or 32-bit float PCM).
#pragma once

#include <cstdint>
#include <vector>

namespace omnihost::media {

enum class wav_sample_format { s16, f32 };

// `interleaved`: frames x channels floats, nominally in [-1, 1]. For s16 the samples are clamped
// and rounded to nearest (x * 32767). Throws media_error when channels is not in [1, 16],
// sample_rate not in [1, 768000], or the data would exceed the 4 GiB RIFF limit.
std::vector<uint8_t> encode_wav(const float *interleaved, int64_t frames, int channels,
                                int sample_rate, wav_sample_format format = wav_sample_format::s16);

}  // namespace omnihost::media
