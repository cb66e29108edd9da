#include "media/mp4_export.h"

#include "media/ffmpeg_owners.h"
#include "media/media_error.h"
#include "media/memory_io.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

namespace omnihost::media {
namespace {

void check(int err, const char *what) {
    if (err < 0) throw media_error(std::string("MP4 export: ") + what + " failed: " + detail::av_error_text(err));
}

void validate(const uint8_t *rgb24, int frames, int width, int height, const mp4_options &o) {
    auto bad = [](const std::string &m) { throw media_error("MP4 export: " + m); };
    if (!rgb24) bad("no frame data");
    if (frames < 1) bad("frames must be >= 1 (got " + std::to_string(frames) + ")");
    if (width < 2 || width > 16384) bad("width must be in [2, 16384] (got " + std::to_string(width) + ")");
    if (height < 2 || height > 16384) bad("height must be in [2, 16384] (got " + std::to_string(height) + ")");
    if (width % 2 != 0) bad("width must be even for yuv420p (got " + std::to_string(width) + ")");
    if (height % 2 != 0) bad("height must be even for yuv420p (got " + std::to_string(height) + ")");
    if (o.fps < 1 || o.fps > 240) bad("fps must be in [1, 240] (got " + std::to_string(o.fps) + ")");
    if (o.crf < 0 || o.crf > 51) bad("crf must be in [0, 51] (got " + std::to_string(o.crf) + ")");
}

// Sends `frame` (or flushes with nullptr) and writes every packet the encoder hands back.
void drain(AVCodecContext *enc, AVFrame *frame, AVFormatContext *oc, AVStream *st, AVPacket *pkt) {
    check(avcodec_send_frame(enc, frame), "sending a frame to libx264");
    for (;;) {
        int err = avcodec_receive_packet(enc, pkt);
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
        check(err, "receiving a packet from libx264");
        // libx264 leaves duration 0; the mp4 edit list would then end at the last pts and
        // players would drop the final frame. One frame = 1 in the 1/fps codec time base.
        if (pkt->duration == 0) pkt->duration = 1;
        av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
        pkt->stream_index = st->index;
        check(av_interleaved_write_frame(oc, pkt), "writing a packet");
    }
}

// libx264 and the muxer print statistics at INFO level on every file; a server must not spam
// stderr per request. Only the library default is lowered, never a level the process chose.
void quiet_ffmpeg_once() {
    static const bool done = [] {
        if (av_log_get_level() == AV_LOG_INFO) av_log_set_level(AV_LOG_WARNING);
        return true;
    }();
    (void)done;
}

}  // namespace

std::vector<uint8_t> encode_mp4(const uint8_t *rgb24, int frames, int width, int height,
                                const mp4_options &options) {
    validate(rgb24, frames, width, height, options);
    quiet_ffmpeg_once();

    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec) throw media_error("MP4 export: this FFmpeg build has no libx264 encoder");

    detail::memory_file file;
    AVFormatContext *raw_oc = nullptr;
    check(avformat_alloc_output_context2(&raw_oc, nullptr, "mp4", nullptr), "creating the mp4 muxer");
    detail::output_format_ptr oc(raw_oc);
    detail::memory_io_attach_output(oc.get(), file);

    AVStream *st = avformat_new_stream(oc.get(), nullptr);
    if (!st) throw media_error("MP4 export: out of memory creating the video stream");

    detail::codec_ctx_ptr enc(avcodec_alloc_context3(codec));
    if (!enc) throw media_error("MP4 export: out of memory creating the encoder");
    enc->width = width;
    enc->height = height;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = AVRational{1, options.fps};
    enc->framerate = AVRational{options.fps, 1};
    enc->thread_count = options.threads;
    if (oc->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    check(av_opt_set(enc->priv_data, "preset", options.preset.c_str(), 0), "setting the x264 preset");
    check(av_opt_set(enc->priv_data, "crf", std::to_string(options.crf).c_str(), 0), "setting crf");
    check(avcodec_open2(enc.get(), codec, nullptr), "opening libx264");
    check(avcodec_parameters_from_context(st->codecpar, enc.get()), "copying codec parameters");
    st->time_base = enc->time_base;
    st->avg_frame_rate = enc->framerate;

    for (const auto &[key, value] : options.metadata)
        av_dict_set(&oc->metadata, key.c_str(), value.c_str(), 0);

    AVDictionary *mux_opts = nullptr;
    // use_metadata_tags: keep arbitrary keys (prompt, seed, ...) instead of dropping non-iTunes ones.
    av_dict_set(&mux_opts, "movflags", "+faststart+use_metadata_tags", 0);
    int err = avformat_write_header(oc.get(), &mux_opts);
    av_dict_free(&mux_opts);
    check(err, "writing the mp4 header");

    detail::sws_ptr sws(
        sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, AV_PIX_FMT_YUV420P,
                       SWS_BICUBIC, nullptr, nullptr, nullptr));
    if (!sws) throw media_error("MP4 export: could not create the RGB -> yuv420p converter");

    detail::frame_ptr frame(av_frame_alloc());
    detail::packet_ptr pkt(av_packet_alloc());
    if (!frame || !pkt) throw media_error("MP4 export: out of memory allocating a frame");
    frame->format = AV_PIX_FMT_YUV420P;
    frame->width = width;
    frame->height = height;
    check(av_frame_get_buffer(frame.get(), 0), "allocating a yuv420p frame");

    const size_t frame_bytes = static_cast<size_t>(width) * height * 3;
    for (int i = 0; i < frames; ++i) {
        check(av_frame_make_writable(frame.get()), "making a frame writable");
        const uint8_t *src[1] = {rgb24 + frame_bytes * static_cast<size_t>(i)};
        const int src_stride[1] = {width * 3};
        sws_scale(sws.get(), src, src_stride, 0, height, frame->data, frame->linesize);
        frame->pts = i;
        drain(enc.get(), frame.get(), oc.get(), st, pkt.get());
    }
    drain(enc.get(), nullptr, oc.get(), st, pkt.get());
    check(av_write_trailer(oc.get()), "finishing the mp4 (faststart pass)");
    avio_flush(oc->pb);
    return std::move(file.bytes);
}

}  // namespace omnihost::media
