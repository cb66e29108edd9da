#include "media/audio_encode.h"

#include "media/ffmpeg_owners.h"
#include "media/media_error.h"
#include "media/memory_io.h"
#include "media/wav_export.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

namespace omnihost::media {
namespace {

// ---- WAV LIST/INFO ---------------------------------------------------------------------------

const char *info_chunk_id(const std::string &key) {
    static const std::pair<const char *, const char *> ids[] = {
        {"title", "INAM"}, {"artist", "IART"}, {"comment", "ICMT"}, {"date", "ICRD"},
        {"genre", "IGNR"}, {"encoder", "ISFT"}, {"copyright", "ICOP"}, {"album", "IPRD"}};
    for (const auto &[name, id] : ids)
        if (key == name) return id;
    return nullptr;
}

void put_u32(std::vector<uint8_t> &out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>((v >> (8 * i)) & 0xff));
}

uint32_t get_u32(const std::vector<uint8_t> &in, size_t at) {
    return uint32_t(in[at]) | uint32_t(in[at + 1]) << 8 | uint32_t(in[at + 2]) << 16 | uint32_t(in[at + 3]) << 24;
}

void set_u32(std::vector<uint8_t> &out, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) out[at + i] = static_cast<uint8_t>((v >> (8 * i)) & 0xff);
}

// A LIST chunk of type INFO; empty when there is nothing to write. Strings are NUL-terminated and
// every sub-chunk is padded to an even size, as RIFF requires.
std::vector<uint8_t> info_list(const std::vector<std::pair<std::string, std::string>> &metadata) {
    std::vector<std::pair<std::string, std::string>> chunks;  // (id, text)
    std::string extra;
    for (const auto &[key, value] : metadata) {
        if (value.empty()) continue;
        if (const char *id = info_chunk_id(key)) {
            auto it = std::find_if(chunks.begin(), chunks.end(), [&](const auto &c) { return c.first == id; });
            if (it == chunks.end()) chunks.emplace_back(id, value);
            else it->second += "\n" + value;
        } else {
            extra += (extra.empty() ? "" : "\n") + key + ": " + value;
        }
    }
    if (!extra.empty()) {
        auto it = std::find_if(chunks.begin(), chunks.end(), [](const auto &c) { return c.first == "ICMT"; });
        if (it == chunks.end()) chunks.emplace_back("ICMT", extra);
        else it->second += "\n" + extra;
    }
    if (chunks.empty()) return {};
    std::vector<uint8_t> body;
    body.insert(body.end(), {'I', 'N', 'F', 'O'});
    for (const auto &[id, text] : chunks) {
        // A NUL inside the text would end it early for every reader; cut there.
        const std::string clean = text.substr(0, text.find('\0'));
        if (clean.size() > (1u << 24)) throw media_error("WAV export: metadata value for " + id + " is too long");
        body.insert(body.end(), id.begin(), id.end());
        put_u32(body, static_cast<uint32_t>(clean.size() + 1));
        body.insert(body.end(), clean.begin(), clean.end());
        body.push_back(0);
        if ((clean.size() + 1) % 2 != 0) body.push_back(0);
    }
    std::vector<uint8_t> list = {'L', 'I', 'S', 'T'};
    put_u32(list, static_cast<uint32_t>(body.size()));
    list.insert(list.end(), body.begin(), body.end());
    return list;
}

std::vector<uint8_t> encode_wav_with_info(const float *planar, int64_t frames, int channels, int sample_rate,
                                          const audio_encode_options &o) {
    std::vector<float> interleaved(static_cast<size_t>(frames) * static_cast<size_t>(channels));
    for (int c = 0; c < channels; ++c)
        for (int64_t i = 0; i < frames; ++i) interleaved[size_t(i) * channels + c] = planar[size_t(c) * frames + i];
    std::vector<uint8_t> wav = encode_wav(interleaved.data(), frames, channels, sample_rate, wav_sample_format::s16);
    const std::vector<uint8_t> list = info_list(o.metadata);
    if (list.empty()) return wav;
    // Readers stop at the data chunk only when it is last, so INFO goes before it: find "data".
    size_t at = 12;
    while (at + 8 <= wav.size() && std::memcmp(&wav[at], "data", 4) != 0) at += 8 + get_u32(wav, at + 4);
    if (at + 8 > wav.size()) throw media_error("WAV export: no data chunk in the encoded file");
    const uint64_t riff = uint64_t(get_u32(wav, 4)) + list.size();
    if (riff > std::numeric_limits<uint32_t>::max()) throw media_error("WAV export: audio too long for a WAV file");
    wav.insert(wav.begin() + static_cast<std::ptrdiff_t>(at), list.begin(), list.end());
    set_u32(wav, 4, static_cast<uint32_t>(riff));
    return wav;
}

// ---- FFmpeg (FLAC, Opus in Ogg) --------------------------------------------------------------

struct ffmpeg_target {
    const char *label;    // for messages
    const char *encoder;  // avcodec encoder name
    const char *muxer;    // avformat short name
    AVSampleFormat sample_format;
    int fixed_rate;       // 0 = keep the input rate
};

struct swr_deleter {
    void operator()(SwrContext *s) const { swr_free(&s); }
};

class ffmpeg_audio_writer {
public:
    explicit ffmpeg_audio_writer(const ffmpeg_target &t) : t_(t) {}

    std::vector<uint8_t> run(const float *planar, int64_t frames, int channels, int sample_rate,
                             const audio_encode_options &o) {
        if (av_log_get_level() == AV_LOG_INFO) av_log_set_level(AV_LOG_WARNING);
        const AVCodec *codec = avcodec_find_encoder_by_name(t_.encoder);
        if (!codec) fail(std::string("this FFmpeg build has no ") + t_.encoder + " encoder");

        AVFormatContext *raw = nullptr;
        check(avformat_alloc_output_context2(&raw, nullptr, t_.muxer, nullptr), "creating the muxer");
        detail::output_format_ptr oc(raw);
        detail::memory_file file;
        detail::memory_io_attach_output(oc.get(), file);
        AVStream *st = avformat_new_stream(oc.get(), nullptr);
        if (!st) fail("out of memory creating the audio stream");

        const int out_rate = t_.fixed_rate > 0 ? t_.fixed_rate : sample_rate;
        detail::codec_ctx_ptr enc(avcodec_alloc_context3(codec));
        if (!enc) fail("out of memory creating the encoder");
        enc->sample_fmt = t_.sample_format;
        enc->sample_rate = out_rate;
        av_channel_layout_default(&enc->ch_layout, channels);
        enc->time_base = AVRational{1, out_rate};
        if (std::string(t_.encoder) == "libopus") enc->bit_rate = o.opus_bitrate;
        if (oc->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
        check(avcodec_open2(enc.get(), codec, nullptr), std::string("opening ") + t_.encoder);
        check(avcodec_parameters_from_context(st->codecpar, enc.get()), "copying codec parameters");
        st->time_base = enc->time_base;
        for (const auto &[key, value] : o.metadata) {
            if (value.empty()) continue;
            av_dict_set(&oc->metadata, key.c_str(), value.c_str(), 0);
            av_dict_set(&st->metadata, key.c_str(), value.c_str(), 0);
        }
        check(avformat_write_header(oc.get(), nullptr), "writing the header");

        const std::vector<uint8_t> converted = convert(planar, frames, channels, sample_rate, enc.get());
        const int bytes_per_frame = av_get_bytes_per_sample(t_.sample_format) * channels;
        const int64_t total = static_cast<int64_t>(converted.size()) / bytes_per_frame;
        const bool any_size = codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE;
        const bool small_last = codec->capabilities & AV_CODEC_CAP_SMALL_LAST_FRAME;
        const int chunk = enc->frame_size > 0 && !any_size ? enc->frame_size : 4096;

        detail::frame_ptr frame(av_frame_alloc());
        detail::packet_ptr pkt(av_packet_alloc());
        if (!frame || !pkt) fail("out of memory allocating a frame");
        for (int64_t pos = 0; pos < total; pos += chunk) {
            const int n = static_cast<int>(std::min<int64_t>(chunk, total - pos));
            const int padded = (n < chunk && !small_last && !any_size) ? chunk : n;
            av_frame_unref(frame.get());
            frame->format = t_.sample_format;
            frame->sample_rate = out_rate;
            frame->nb_samples = padded;
            check(av_channel_layout_copy(&frame->ch_layout, &enc->ch_layout), "copying the channel layout");
            check(av_frame_get_buffer(frame.get(), 0), "allocating an audio frame");
            std::memset(frame->data[0], 0, size_t(padded) * bytes_per_frame);
            std::memcpy(frame->data[0], converted.data() + size_t(pos) * bytes_per_frame, size_t(n) * bytes_per_frame);
            frame->pts = pos;
            drain(enc.get(), frame.get(), oc.get(), st, pkt.get());
        }
        drain(enc.get(), nullptr, oc.get(), st, pkt.get());
        check(av_write_trailer(oc.get()), "finishing the file");
        avio_flush(oc->pb);
        return std::move(file.bytes);
    }

private:
    ffmpeg_target t_;

    [[noreturn]] void fail(const std::string &what) const {
        throw media_error(std::string(t_.label) + " export: " + what);
    }
    void check(int err, const std::string &what) const {
        if (err < 0) fail(what + " failed: " + detail::av_error_text(err));
    }

    // Planar float at the input rate -> the encoder's packed sample format at its rate.
    std::vector<uint8_t> convert(const float *planar, int64_t frames, int channels, int in_rate,
                                 AVCodecContext *enc) const {
        AVChannelLayout in_layout;
        av_channel_layout_default(&in_layout, channels);
        SwrContext *raw = nullptr;
        check(swr_alloc_set_opts2(&raw, &enc->ch_layout, enc->sample_fmt, enc->sample_rate, &in_layout,
                                  AV_SAMPLE_FMT_FLTP, in_rate, 0, nullptr),
              "configuring the resampler");
        av_channel_layout_uninit(&in_layout);
        std::unique_ptr<SwrContext, swr_deleter> swr(raw);
        check(swr_init(swr.get()), "starting the resampler");
        const int bytes_per_frame = av_get_bytes_per_sample(enc->sample_fmt) * channels;
        const int64_t capacity = av_rescale_rnd(frames, enc->sample_rate, in_rate, AV_ROUND_UP) + 4096;
        if (capacity > std::numeric_limits<int>::max()) fail("audio too long");
        std::vector<uint8_t> out(size_t(capacity) * bytes_per_frame);
        std::vector<const uint8_t *> in(channels);
        for (int c = 0; c < channels; ++c) in[c] = reinterpret_cast<const uint8_t *>(planar + size_t(c) * frames);
        uint8_t *dst = out.data();
        const int got = swr_convert(swr.get(), &dst, int(capacity), in.data(), int(frames));
        check(got, "resampling");
        dst = out.data() + size_t(got) * bytes_per_frame;
        const int tail = swr_convert(swr.get(), &dst, int(capacity - got), nullptr, 0);
        check(tail, "flushing the resampler");
        out.resize(size_t(got + tail) * bytes_per_frame);
        return out;
    }

    void drain(AVCodecContext *enc, AVFrame *frame, AVFormatContext *oc, AVStream *st, AVPacket *pkt) const {
        check(avcodec_send_frame(enc, frame), "sending audio to the encoder");
        for (;;) {
            const int err = avcodec_receive_packet(enc, pkt);
            if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
            check(err, "receiving a packet from the encoder");
            av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
            pkt->stream_index = st->index;
            check(av_interleaved_write_frame(oc, pkt), "writing a packet");
        }
    }
};

}  // namespace

audio_format parse_audio_format(const std::string &name) {
    if (name == "wav") return audio_format::wav;
    if (name == "flac") return audio_format::flac;
    if (name == "ogg" || name == "opus") return audio_format::ogg_opus;
    throw media_error("output_format: '" + name + "' is not one of wav, flac, ogg, opus");
}

const char *audio_format_name(audio_format format) {
    switch (format) {
    case audio_format::wav: return "wav";
    case audio_format::flac: return "flac";
    case audio_format::ogg_opus: return "ogg";
    }
    return "wav";
}

const char *audio_mime_type(audio_format format) {
    switch (format) {
    case audio_format::wav: return "audio/wav";
    case audio_format::flac: return "audio/flac";
    case audio_format::ogg_opus: return "audio/ogg";
    }
    return "audio/wav";
}

peak_mode parse_peak_mode(const std::string &name) {
    if (name == "normalize") return peak_mode::normalize;
    if (name == "limit") return peak_mode::limit;
    throw media_error("peak_mode: '" + name + "' is not one of normalize, limit");
}

peak_report apply_peak_handling(float *samples, size_t count, peak_mode mode) {
    peak_report r;
    float peak = 0.0f;
    for (size_t i = 0; i < count; ++i) {
        const float v = samples[i];
        if (!std::isfinite(v))
            throw media_error("audio output contains " + std::string(std::isnan(v) ? "NaN" : "infinite") +
                              " samples (at index " + std::to_string(i) + "); refusing to write it");
        peak = std::max(peak, std::fabs(v));
    }
    r.peak_in = peak;
    const bool scale = peak > 0.0f && (mode == peak_mode::normalize ? peak != 1.0f : peak > 1.0f);
    if (!scale) return r;
    const float gain = 1.0f / peak;
    for (size_t i = 0; i < count; ++i) samples[i] = std::clamp(samples[i] * gain, -1.0f, 1.0f);  // rounding only
    r.gain = gain;
    r.scaled = true;
    return r;
}

std::vector<uint8_t> encode_audio(const float *planar, int64_t frames, int channels, int sample_rate,
                                  const audio_encode_options &options) {
    if (channels < 1 || channels > 8)
        throw media_error("audio export: channels must be in [1, 8] (got " + std::to_string(channels) + ")");
    if (sample_rate < 1 || sample_rate > 768000)
        throw media_error("audio export: sample_rate must be in [1, 768000] (got " + std::to_string(sample_rate) + ")");
    if (frames < 1) throw media_error("audio export: at least one sample per channel is needed");
    if (!planar) throw media_error("audio export: no sample data");
    switch (options.format) {
    case audio_format::wav:
        return encode_wav_with_info(planar, frames, channels, sample_rate, options);
    case audio_format::flac:
        return ffmpeg_audio_writer({"FLAC", "flac", "flac", AV_SAMPLE_FMT_S16, 0})
            .run(planar, frames, channels, sample_rate, options);
    case audio_format::ogg_opus:
        if (channels > 2) throw media_error("Ogg/Opus export: at most 2 channels (got " + std::to_string(channels) + ")");
        return ffmpeg_audio_writer({"Ogg/Opus", "libopus", "ogg", AV_SAMPLE_FMT_FLT, 48000})
            .run(planar, frames, channels, sample_rate, options);
    }
    throw media_error("audio export: unknown format");
}

}  // namespace omnihost::media
