#include "media/memory_io.h"

#include "media/media_error.h"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/mem.h>
}

#include <algorithm>
#include <cstring>

namespace omnihost::media::detail {
namespace {

constexpr int kIoBufferSize = 1 << 16;

int mem_read(void *opaque, uint8_t *buf, int size) {
    auto *f = static_cast<memory_file *>(opaque);
    const int64_t left = static_cast<int64_t>(f->bytes.size()) - f->pos;
    if (left <= 0) return AVERROR_EOF;
    const int n = static_cast<int>(std::min<int64_t>(left, size));
    std::memcpy(buf, f->bytes.data() + f->pos, static_cast<size_t>(n));
    f->pos += n;
    return n;
}

// FFmpeg 5.1's write callback takes a non-const buffer.
int mem_write(void *opaque, uint8_t *buf, int size) {
    auto *f = static_cast<memory_file *>(opaque);
    const size_t end = static_cast<size_t>(f->pos) + static_cast<size_t>(size);
    if (end > f->bytes.size()) f->bytes.resize(end);
    std::memcpy(f->bytes.data() + f->pos, buf, static_cast<size_t>(size));
    f->pos = static_cast<int64_t>(end);
    return size;
}

int64_t mem_seek(void *opaque, int64_t offset, int whence) {
    auto *f = static_cast<memory_file *>(opaque);
    const int64_t size = static_cast<int64_t>(f->bytes.size());
    switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE: return size;
    case SEEK_SET: break;
    case SEEK_CUR: offset += f->pos; break;
    case SEEK_END: offset += size; break;
    default: return AVERROR(EINVAL);
    }
    if (offset < 0) return AVERROR(EINVAL);
    f->pos = offset;
    return offset;
}

// The faststart pass re-opens "the output file" for reading. The only file there is is ours, so
// any URL maps to a reader over it, with its own position so the writer's is kept.
int hook_io_open(AVFormatContext *s, AVIOContext **pb, const char *, int flags, AVDictionary **) {
    auto *out = static_cast<memory_file *>(s->opaque);
    if (flags & AVIO_FLAG_WRITE) return AVERROR(EINVAL);
    // While shifting, the muxer reads the original bytes ahead of where it rewrites them. A
    // snapshot taken at reopen time is exactly those original bytes, whatever the buffering.
    auto *snapshot = new memory_file{out->bytes, 0};
    try {
        *pb = memory_io_open(*snapshot, false);
    } catch (...) {
        delete snapshot;
        return AVERROR(ENOMEM);
    }
    return 0;
}

int hook_io_close2(AVFormatContext *, AVIOContext *pb) {
    if (!pb) return 0;
    auto *snapshot = static_cast<memory_file *>(pb->opaque);
    memory_io_close(pb);
    delete snapshot;
    return 0;
}

}  // namespace

AVIOContext *memory_io_open(memory_file &file, bool writable) {
    auto *buf = static_cast<unsigned char *>(av_malloc(kIoBufferSize));
    if (!buf) throw media_error("out of memory allocating an I/O buffer");
    AVIOContext *ctx = avio_alloc_context(buf, kIoBufferSize, writable ? 1 : 0, &file,
                                          writable ? nullptr : mem_read,
                                          writable ? mem_write : nullptr, mem_seek);
    if (!ctx) {
        av_free(buf);
        throw media_error("out of memory allocating an I/O context");
    }
    return ctx;
}

void memory_io_close(AVIOContext *ctx) {
    if (!ctx) return;
    av_freep(&ctx->buffer);
    avio_context_free(&ctx);
}

void memory_io_attach_output(AVFormatContext *oc, memory_file &file) {
    oc->pb = memory_io_open(file, true);
    oc->flags |= AVFMT_FLAG_CUSTOM_IO;
    oc->opaque = &file;
    oc->io_open = hook_io_open;
    oc->io_close2 = hook_io_close2;
}

}  // namespace omnihost::media::detail
