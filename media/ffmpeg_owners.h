// Owners for what FFmpeg allocates, so every early exit (an exception) frees it, and FFmpeg's text for
// an error code. Internal to omnihost_media (it includes FFmpeg's headers): only media/*.cpp use it.
#pragma once

#include "media/memory_io.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

namespace omnihost::media::detail {

// An output context whose AVIOContext is a memory_file (memory_io_attach_output): the custom IO is
// not FFmpeg's to close, so it is closed here before the context is freed.
struct output_format_deleter {
    void operator()(AVFormatContext *oc) const {
        if (!oc) return;
        memory_io_close(oc->pb);
        oc->pb = nullptr;
        avformat_free_context(oc);
    }
};
struct codec_ctx_deleter {
    void operator()(AVCodecContext *c) const { avcodec_free_context(&c); }
};
struct frame_deleter {
    void operator()(AVFrame *f) const { av_frame_free(&f); }
};
struct packet_deleter {
    void operator()(AVPacket *p) const { av_packet_free(&p); }
};
struct sws_deleter {
    void operator()(SwsContext *s) const { sws_freeContext(s); }
};

using output_format_ptr = std::unique_ptr<AVFormatContext, output_format_deleter>;
using codec_ctx_ptr = std::unique_ptr<AVCodecContext, codec_ctx_deleter>;
using frame_ptr = std::unique_ptr<AVFrame, frame_deleter>;
using packet_ptr = std::unique_ptr<AVPacket, packet_deleter>;
using sws_ptr = std::unique_ptr<SwsContext, sws_deleter>;

// av_strerror's text for `err` (an AVERROR code).
inline std::string av_error_text(int err) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(err, buf, sizeof buf);
    return buf;
}

}  // namespace omnihost::media::detail
