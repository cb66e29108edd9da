#include "image_fixtures.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <stdexcept>

namespace omnihost::test_images {

std::vector<uint8_t> pattern_rgb(int w, int h) {
    std::vector<uint8_t> rgb(size_t(w) * h * 3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            uint8_t *p = &rgb[(size_t(y) * w + x) * 3];
            const bool square = x > w / 4 && x < w / 2 && y > h / 4 && y < h / 2;
            p[0] = uint8_t(square ? 240 : (x * 255) / (w > 1 ? w - 1 : 1));
            p[1] = uint8_t(square ? 230 : (y * 255) / (h > 1 ? h - 1 : 1));
            p[2] = uint8_t(square ? 40 : 128);
        }
    return rgb;
}

std::vector<uint8_t> encode_rgb(const std::vector<uint8_t> &rgb, int w, int h,
                                const std::string &encoder, bool lossless) {
    const AVCodec *codec = avcodec_find_encoder_by_name(encoder.c_str());
    if (!codec) throw std::runtime_error("FFmpeg has no encoder " + encoder);
    AVPixelFormat fmt = AV_PIX_FMT_RGB24;
    if (encoder == "mjpeg") fmt = AV_PIX_FMT_YUVJ444P;
    if (encoder == "libwebp") fmt = lossless ? AV_PIX_FMT_RGB32 : AV_PIX_FMT_YUV420P;
    AVCodecContext *ctx = avcodec_alloc_context3(codec);
    ctx->width = w;
    ctx->height = h;
    ctx->pix_fmt = fmt;
    ctx->time_base = {1, 25};
    if (encoder == "mjpeg") {
        ctx->flags |= AV_CODEC_FLAG_QSCALE;
        ctx->global_quality = FF_QP2LAMBDA * 2;
        ctx->color_range = AVCOL_RANGE_JPEG;
    }
    if (encoder == "libwebp") {
        av_opt_set_int(ctx->priv_data, "lossless", lossless ? 1 : 0, 0);
        av_opt_set_double(ctx->priv_data, "quality", 95, 0);
    }
    if (avcodec_open2(ctx, codec, nullptr) < 0) {
        avcodec_free_context(&ctx);
        throw std::runtime_error("cannot open encoder " + encoder);
    }
    AVFrame *frame = av_frame_alloc();
    frame->width = w;
    frame->height = h;
    frame->format = fmt;
    frame->color_range = ctx->color_range;
    av_frame_get_buffer(frame, 0);
    SwsContext *sws = sws_getContext(w, h, AV_PIX_FMT_RGB24, w, h, fmt, SWS_BICUBIC, nullptr, nullptr, nullptr);
    const uint8_t *src[1] = {rgb.data()};
    const int src_stride[1] = {w * 3};
    sws_scale(sws, src, src_stride, 0, h, frame->data, frame->linesize);
    sws_freeContext(sws);

    std::vector<uint8_t> out;
    AVPacket *pkt = av_packet_alloc();
    int e = avcodec_send_frame(ctx, frame);
    if (e >= 0) avcodec_send_frame(ctx, nullptr);
    while (e >= 0 && avcodec_receive_packet(ctx, pkt) >= 0) {
        out.insert(out.end(), pkt->data, pkt->data + pkt->size);
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
    if (out.empty()) throw std::runtime_error("encoder " + encoder + " wrote nothing");
    return out;
}

std::string base64(const std::vector<uint8_t> &bytes) {
    static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const uint32_t v = (uint32_t(bytes[i]) << 16) | (uint32_t(bytes[i + 1]) << 8) | bytes[i + 2];
        out += table[v >> 18];
        out += table[(v >> 12) & 63];
        out += table[(v >> 6) & 63];
        out += table[v & 63];
    }
    if (i < bytes.size()) {
        uint32_t v = uint32_t(bytes[i]) << 16;
        if (i + 1 < bytes.size()) v |= uint32_t(bytes[i + 1]) << 8;
        out += table[v >> 18];
        out += table[(v >> 12) & 63];
        out += i + 1 < bytes.size() ? table[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

}  // namespace omnihost::test_images
