// Frames -> MP4 (H.264 via libx264, yuv420p, moov before mdat) entirely in memory.
//
// Mirrors what diffusers' export_to_video produces through imageio-ffmpeg (libx264, yuv420p,
// crf 25 for quality 5) so files are comparable, and fixes two libavformat traps: "+faststart"
// with custom I/O (handled by the reopen hook in memory_io.cpp) and the last frame being cut by
// the edit list when packets carry no duration (every packet gets one frame of duration).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace omnihost::media {

struct mp4_options {
    int fps = 16;                 // frames per second (> 0)
    int crf = 25;                 // x264 constant rate factor; 25 = imageio quality 5
    std::string preset = "medium";  // x264 preset (imageio-ffmpeg uses the default, medium)
    int threads = 0;              // encoder threads; 0 = let x264 decide
    // Container metadata (written as mdta tags so arbitrary keys such as "prompt" and "seed"
    // survive; readers like ffprobe and libavformat show them). UTF-8.
    std::map<std::string, std::string> metadata;
};

// `rgb24`: `frames` packed frames of height x width x 3 bytes (row-major, RGB).
// Width and height must be even (yuv420p halves chroma in both directions) and within
// [2, 16384]; frames >= 1. Throws media_error naming the offending field otherwise, or when
// FFmpeg fails (the message includes FFmpeg's reason).
std::vector<uint8_t> encode_mp4(const uint8_t *rgb24, int frames, int width, int height,
                                const mp4_options &options);

}  // namespace omnihost::media
