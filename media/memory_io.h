// A growable in-memory file for libavformat: write/seek/read callbacks over a std::vector, plus the
// io_open/io_close2 hooks the mp4 muxer needs for "+faststart" (its second pass re-opens the output
// by URL to shift the moov atom forward; with custom IO there is no URL, so the hook hands it a
// reader over the bytes written so far). Internal to omnihost_media.
#pragma once

#include <cstdint>
#include <vector>

struct AVFormatContext;
struct AVIOContext;

namespace omnihost::media::detail {

struct memory_file {
    std::vector<uint8_t> bytes;
    int64_t pos = 0;
};

// Creates a read/write AVIOContext over `file`. Throws media_error on allocation failure.
AVIOContext *memory_io_open(memory_file &file, bool writable);
// Frees the context and its buffer (not the memory_file). Null is fine.
void memory_io_close(AVIOContext *ctx);

// Wires `oc` to write into `file` (AVFMT_FLAG_CUSTOM_IO) and installs the reopen hooks.
void memory_io_attach_output(AVFormatContext *oc, memory_file &file);

}  // namespace omnihost::media::detail
