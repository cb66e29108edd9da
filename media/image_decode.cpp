#include "media/image_decode.h"

#include "media/ffmpeg_owners.h"
#include "media/media_error.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

namespace omnihost::media {
namespace {

const char *format_name(image_format f) {
    switch (f) {
    case image_format::png: return "PNG";
    case image_format::jpeg: return "JPEG";
    case image_format::webp: return "WebP";
    case image_format::unknown: break;
    }
    return "image";
}

AVCodecID codec_for(image_format f) {
    switch (f) {
    case image_format::png: return AV_CODEC_ID_PNG;
    case image_format::jpeg: return AV_CODEC_ID_MJPEG;
    case image_format::webp: return AV_CODEC_ID_WEBP;
    case image_format::unknown: break;
    }
    return AV_CODEC_ID_NONE;
}

// swscale wants the full-range flag set explicitly instead of the deprecated yuvj formats
// (JPEG decodes to those).
AVPixelFormat plain_format(AVPixelFormat f, bool &full_range) {
    switch (f) {
    case AV_PIX_FMT_YUVJ420P: full_range = true; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: full_range = true; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: full_range = true; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: full_range = true; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: full_range = true; return AV_PIX_FMT_YUV411P;
    default: return f;
    }
}

void check_limits(const image_header &h, const image_decode_limits &limits) {
    if (limits.max_width > 0 && h.width > limits.max_width)
        throw media_error("the image is " + std::to_string(h.width) + " pixels wide; the limit is " +
                          std::to_string(limits.max_width));
    if (limits.max_height > 0 && h.height > limits.max_height)
        throw media_error("the image is " + std::to_string(h.height) +
                          " pixels high; the limit is " + std::to_string(limits.max_height));
}

}  // namespace

decoded_image decode_image(const uint8_t *data, size_t size, const image_decode_limits &limits) {
    if (!data || size == 0) throw media_error("the image is empty");
    if (limits.max_bytes > 0 && size > limits.max_bytes)
        throw media_error("the image is " + std::to_string(size) + " bytes; the limit is " +
                          std::to_string(limits.max_bytes) + " bytes");
    const image_header header = read_image_header(data, size);
    const char *name = format_name(header.format);
    if (header.animated)
        throw media_error("animated WebP images are not supported; send a still image");
    check_limits(header, limits);

    const AVCodec *codec = avcodec_find_decoder(codec_for(header.format));
    if (!codec) throw media_error(std::string("this FFmpeg build has no ") + name + " decoder");
    detail::codec_ctx_ptr dec(avcodec_alloc_context3(codec));
    if (!dec) throw media_error("out of memory allocating an image decoder");
    // A backstop for what the header scan cannot see (a JPEG whose later frame header differs):
    // the decoder itself refuses any frame above this many pixels before allocating it.
    if (limits.max_width > 0 && limits.max_height > 0)
        av_opt_set_int(dec.get(), "max_pixels", int64_t(limits.max_width) * limits.max_height,
                       AV_OPT_SEARCH_CHILDREN);
    dec->thread_count = 1;
    // Stop at the first damaged bit instead of concealing it (checksums included where the format
    // has them): a user's picture with grey blocks in it is not the picture they sent.
    dec->err_recognition = AV_EF_CRCCHECK | AV_EF_BITSTREAM | AV_EF_BUFFER | AV_EF_EXPLODE;
    if (int e = avcodec_open2(dec.get(), codec, nullptr); e < 0)
        throw media_error(std::string("cannot open the ") + name + " decoder: " + detail::av_error_text(e));

    detail::packet_ptr pkt(av_packet_alloc());
    detail::frame_ptr frame(av_frame_alloc());
    if (!pkt || !frame) throw media_error("out of memory allocating an image decoder");
    // The whole file is one packet: FFmpeg's PNG, MJPEG and WebP decoders each take a complete
    // image file per packet. The packet needs its own padded copy.
    if (av_new_packet(pkt.get(), int(size)) < 0) throw media_error("out of memory copying the image");
    std::copy(data, data + size, pkt->data);

    int e = avcodec_send_packet(dec.get(), pkt.get());
    if (e >= 0) e = avcodec_send_packet(dec.get(), nullptr);
    if (e < 0 && e != AVERROR_EOF)
        throw media_error(std::string("the ") + name + " image is corrupt: " + detail::av_error_text(e));
    e = avcodec_receive_frame(dec.get(), frame.get());
    if (e < 0)
        throw media_error(std::string("the ") + name + " image is corrupt: " +
                          (e == AVERROR_EOF || e == AVERROR(EAGAIN) ? "no picture in it"
                                                                    : detail::av_error_text(e)));
    // Errors the decoder concealed (a truncated JPEG decodes to grey below the cut) are errors here:
    // a half-grey picture is not what the user sent.
    if (frame->decode_error_flags != 0 || (frame->flags & AV_FRAME_FLAG_CORRUPT))
        throw media_error(std::string("the ") + name + " image is corrupt or truncated");
    if (frame->width != header.width || frame->height != header.height)
        throw media_error(std::string("the ") + name + " image is corrupt: its header says " +
                          std::to_string(header.width) + "x" + std::to_string(header.height) +
                          " but it decodes to " + std::to_string(frame->width) + "x" +
                          std::to_string(frame->height));

    bool full_range = frame->color_range == AVCOL_RANGE_JPEG;
    const AVPixelFormat src = plain_format(AVPixelFormat(frame->format), full_range);
    detail::sws_ptr sws(
        sws_getContext(frame->width, frame->height, src, frame->width, frame->height,
                       AV_PIX_FMT_RGB24, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT,
                       nullptr, nullptr, nullptr));
    if (!sws) throw media_error(std::string("cannot convert the ") + name + " image's pixels to RGB");
    int *inv_table = nullptr, *table = nullptr, src_range = 0, dst_range = 0, brightness = 0,
        contrast = 0, saturation = 0;
    if (sws_getColorspaceDetails(sws.get(), &inv_table, &src_range, &table, &dst_range, &brightness,
                                 &contrast, &saturation) >= 0)
        sws_setColorspaceDetails(sws.get(), inv_table, full_range ? 1 : 0, table, 1, brightness,
                                 contrast, saturation);

    decoded_image out;
    out.width = frame->width;
    out.height = frame->height;
    out.rgb.resize(size_t(out.width) * size_t(out.height) * 3);
    uint8_t *dst[4] = {out.rgb.data(), nullptr, nullptr, nullptr};
    const int dst_stride[4] = {out.width * 3, 0, 0, 0};
    sws_scale(sws.get(), frame->data, frame->linesize, 0, frame->height, dst, dst_stride);
    return out;
}

}  // namespace omnihost::media
