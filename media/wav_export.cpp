#include "media/wav_export.h"

#include "media/media_error.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace omnihost::media {
namespace {

// RIFF is little-endian; write byte by byte so the host's endianness never matters.
void put_u16(std::vector<uint8_t> &out, uint16_t v) {
    out.push_back(static_cast<uint8_t>(v & 0xff));
    out.push_back(static_cast<uint8_t>(v >> 8));
}
void put_u32(std::vector<uint8_t> &out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>((v >> (8 * i)) & 0xff));
}
void put_tag(std::vector<uint8_t> &out, const char *tag) { out.insert(out.end(), tag, tag + 4); }

}  // namespace

std::vector<uint8_t> encode_wav(const float *interleaved, int64_t frames, int channels,
                                int sample_rate, wav_sample_format format) {
    if (channels < 1 || channels > 16)
        throw media_error("WAV export: channels must be in [1, 16] (got " + std::to_string(channels) + ")");
    if (sample_rate < 1 || sample_rate > 768000)
        throw media_error("WAV export: sample_rate must be in [1, 768000] (got " + std::to_string(sample_rate) + ")");
    if (frames < 0) throw media_error("WAV export: frames must be >= 0");
    if (frames > 0 && !interleaved) throw media_error("WAV export: no sample data");

    const uint32_t bytes_per_sample = format == wav_sample_format::s16 ? 2 : 4;
    const uint64_t data_bytes = static_cast<uint64_t>(frames) * channels * bytes_per_sample;
    // Header fields are 32-bit; keep the RIFF size (data + 36, + fact chunk for float) in range.
    if (data_bytes > std::numeric_limits<uint32_t>::max() - 64)
        throw media_error("WAV export: audio too long for a WAV file (over 4 GiB of samples)");

    const bool is_float = format == wav_sample_format::f32;
    const uint32_t fmt_size = is_float ? 18 : 16;  // WAVE_FORMAT_IEEE_FLOAT carries cbSize
    const uint32_t fact_bytes = is_float ? 12 : 0;   // float WAVs need a fact chunk
    std::vector<uint8_t> out;
    out.reserve(static_cast<size_t>(44 + 2 + fact_bytes + data_bytes));
    put_tag(out, "RIFF");
    put_u32(out, static_cast<uint32_t>(4 + (8 + fmt_size) + fact_bytes + 8 + data_bytes));
    put_tag(out, "WAVE");
    put_tag(out, "fmt ");
    put_u32(out, fmt_size);
    put_u16(out, is_float ? 3 : 1);
    put_u16(out, static_cast<uint16_t>(channels));
    put_u32(out, static_cast<uint32_t>(sample_rate));
    put_u32(out, static_cast<uint32_t>(sample_rate) * channels * bytes_per_sample);
    put_u16(out, static_cast<uint16_t>(channels * bytes_per_sample));
    put_u16(out, static_cast<uint16_t>(bytes_per_sample * 8));
    if (is_float) {
        put_u16(out, 0);
        put_tag(out, "fact");
        put_u32(out, 4);
        put_u32(out, static_cast<uint32_t>(frames));
    }
    put_tag(out, "data");
    put_u32(out, static_cast<uint32_t>(data_bytes));

    const int64_t n = frames * channels;
    for (int64_t i = 0; i < n; ++i) {
        float v = interleaved[i];
        if (std::isnan(v)) v = 0.0f;
        if (is_float) {
            uint32_t bits;
            std::memcpy(&bits, &v, 4);
            put_u32(out, bits);
        } else {
            v = v < -1.0f ? -1.0f : (v > 1.0f ? 1.0f : v);
            put_u16(out, static_cast<uint16_t>(static_cast<int16_t>(std::lrintf(v * 32767.0f))));
        }
    }
    return out;
}

}  // namespace omnihost::media
