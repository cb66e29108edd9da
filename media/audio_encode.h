// Model audio -> a file in memory: peak handling (never silent clipping), then WAV (16-bit PCM with
// a LIST/INFO metadata chunk, written here) or, through FFmpeg, FLAC or Opus in Ogg with the same
// metadata as Vorbis comments. No libtorch: the samples arrive as a plain float array.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace omnihost::media {

enum class audio_format { wav, flac, ogg_opus };

// "wav", "flac", "ogg" or "opus" (both Opus in Ogg). Throws media_error listing the choices.
audio_format parse_audio_format(const std::string &name);
const char *audio_format_name(audio_format format);  // "wav", "flac", "ogg"
const char *audio_mime_type(audio_format format);    // "audio/wav", "audio/flac", "audio/ogg"

// How samples beyond full scale are handled before integer encoding. Both scale, neither clips:
// `normalize` always scales so the peak is exactly 1 (what the Python playground did for every
// in-process clip); `limit` scales only when the peak is above 1 (quiet audio stays quiet).
enum class peak_mode { normalize, limit };

struct peak_report {
    double peak_in = 0.0;  // max |x| before handling
    double gain = 1.0;     // factor applied (1 when untouched)
    bool scaled = false;
};

// "normalize" or "limit"; throws media_error otherwise.
peak_mode parse_peak_mode(const std::string &name);

// Applies `mode` in place. Throws media_error when a sample is NaN or infinite (a broken model
// output must not turn into a quiet-looking file). Silence (peak 0) is left as is.
peak_report apply_peak_handling(float *samples, size_t count, peak_mode mode);

struct audio_encode_options {
    audio_format format = audio_format::wav;
    // Ordered (key, value) pairs, UTF-8. FLAC/Ogg: every pair becomes a Vorbis comment KEY=value.
    // WAV: title, artist, comment, date, genre, encoder, copyright, album map onto their LIST/INFO
    // chunks (INAM, IART, ICMT, ICRD, IGNR, ISFT, ICOP, IPRD); every other pair is appended to the
    // comment (ICMT) as a "key: value" line, so nothing is lost in the one format without free keys.
    std::vector<std::pair<std::string, std::string>> metadata;
    int opus_bitrate = 160000;  // bits per second, for ogg_opus
};

// `planar`: `channels` rows of `frames` samples ([channels, frames] row-major, the layout audio
// models return), nominally in [-1, 1]; values beyond are clamped by the integer encoders, so run
// apply_peak_handling first. WAV and FLAC keep `sample_rate`; Opus is resampled to 48 kHz (the
// only rates Opus codes at). Throws media_error naming the problem (bad sizes, FFmpeg failures).
std::vector<uint8_t> encode_audio(const float *planar, int64_t frames, int channels, int sample_rate,
                                  const audio_encode_options &options);

}  // namespace omnihost::media
