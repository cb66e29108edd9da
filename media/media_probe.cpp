#include "media/media_probe.h"

#include "media/ffmpeg_owners.h"
#include "media/media_error.h"
#include "media/memory_io.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include <memory>

namespace omnihost::media {
namespace {

void check(int err, const char *what) {
    if (err < 0) throw media_error(std::string("media probe: ") + what + " failed: " + detail::av_error_text(err));
}

std::vector<std::string> scan_boxes(const std::vector<uint8_t> &b) {
    std::vector<std::string> boxes;
    size_t pos = 0;
    while (pos + 8 <= b.size()) {
        uint64_t size = (uint64_t(b[pos]) << 24) | (uint64_t(b[pos + 1]) << 16) |
                        (uint64_t(b[pos + 2]) << 8) | uint64_t(b[pos + 3]);
        std::string type(reinterpret_cast<const char *>(&b[pos + 4]), 4);
        if (size == 1 && pos + 16 <= b.size()) {  // 64-bit largesize follows the type
            size = 0;
            for (int i = 0; i < 8; ++i) size = (size << 8) | b[pos + 8 + i];
        } else if (size == 0) {
            size = b.size() - pos;  // box runs to the end of the file
        }
        if (size < 8) break;
        boxes.push_back(type);
        pos += size;
    }
    return boxes;
}

struct input_closer {
    void operator()(AVFormatContext *ic) const {
        if (!ic) return;
        AVIOContext *pb = ic->pb;
        avformat_close_input(&ic);
        detail::memory_io_close(pb);
    }
};

}  // namespace

media_info probe_media(const std::vector<uint8_t> &bytes, bool decode_video) {
    detail::memory_file file{bytes, 0};
    AVFormatContext *raw = avformat_alloc_context();
    if (!raw) throw media_error("media probe: out of memory");
    AVIOContext *pb = nullptr;
    try {
        pb = detail::memory_io_open(file, false);
    } catch (...) {
        avformat_free_context(raw);
        throw;
    }
    raw->pb = pb;
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
    int err = avformat_open_input(&raw, nullptr, nullptr, nullptr);
    if (err < 0) {  // avformat_open_input frees the context on failure, but not our pb
        detail::memory_io_close(pb);
        check(err, "opening the container");
    }
    std::unique_ptr<AVFormatContext, input_closer> ic(raw);
    check(avformat_find_stream_info(ic.get(), nullptr), "reading stream info");

    media_info info;
    info.format = ic->iformat->name;
    const AVDictionaryEntry *tag = nullptr;
    while ((tag = av_dict_get(ic->metadata, "", tag, AV_DICT_IGNORE_SUFFIX)))
        info.metadata[tag->key] = tag->value;
    if (ic->duration != AV_NOPTS_VALUE) info.duration_s = double(ic->duration) / AV_TIME_BASE;
    if (info.format.find("mp4") != std::string::npos) info.top_level_boxes = scan_boxes(bytes);

    int video_index = -1;
    for (unsigned i = 0; i < ic->nb_streams; ++i) {
        const AVCodecParameters *par = ic->streams[i]->codecpar;
        if (par->codec_type == AVMEDIA_TYPE_VIDEO && video_index < 0) {
            video_index = static_cast<int>(i);
            info.video_codec = avcodec_get_name(par->codec_id);
            const char *pf = av_get_pix_fmt_name(static_cast<AVPixelFormat>(par->format));
            info.pixel_format = pf ? pf : "";
            info.width = par->width;
            info.height = par->height;
            const AVRational r = ic->streams[i]->avg_frame_rate;
            info.fps = r.den ? av_q2d(r) : 0.0;
        } else if (par->codec_type == AVMEDIA_TYPE_AUDIO && info.channels == 0) {
            info.audio_codec = avcodec_get_name(par->codec_id);
            info.channels = par->ch_layout.nb_channels;
            info.sample_rate = par->sample_rate;
        }
    }
    if (!decode_video || video_index < 0) return info;

    const AVCodecParameters *par = ic->streams[video_index]->codecpar;
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec) throw media_error("media probe: no decoder for " + info.video_codec);
    detail::codec_ctx_ptr dec(avcodec_alloc_context3(codec));
    check(avcodec_parameters_to_context(dec.get(), par), "copying codec parameters");
    check(avcodec_open2(dec.get(), codec, nullptr), "opening the decoder");

    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    SwsContext *sws = nullptr;
    const size_t frame_bytes = size_t(info.width) * info.height * 3;
    auto receive_all = [&]() {
        for (;;) {
            int e = avcodec_receive_frame(dec.get(), frame);
            if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return;
            check(e, "decoding a frame");
            sws = sws_getCachedContext(sws, frame->width, frame->height,
                                       static_cast<AVPixelFormat>(frame->format), info.width,
                                       info.height, AV_PIX_FMT_RGB24, SWS_BICUBIC, nullptr,
                                       nullptr, nullptr);
            if (!sws) throw media_error("media probe: cannot convert decoded frames to RGB");
            info.rgb24.resize(info.rgb24.size() + frame_bytes);
            uint8_t *dst[1] = {info.rgb24.data() + info.rgb24.size() - frame_bytes};
            const int dst_stride[1] = {info.width * 3};
            sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst, dst_stride);
            ++info.frames_decoded;
            av_frame_unref(frame);
        }
    };
    try {
        while (av_read_frame(ic.get(), pkt) >= 0) {
            if (pkt->stream_index == video_index) {
                check(avcodec_send_packet(dec.get(), pkt), "sending a packet to the decoder");
                receive_all();
            }
            av_packet_unref(pkt);
        }
        check(avcodec_send_packet(dec.get(), nullptr), "flushing the decoder");
        receive_all();
    } catch (...) {
        av_packet_free(&pkt);
        av_frame_free(&frame);
        sws_freeContext(sws);
        throw;
    }
    av_packet_free(&pkt);
    av_frame_free(&frame);
    sws_freeContext(sws);
    return info;
}

}  // namespace omnihost::media
