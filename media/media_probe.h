// Reads an MP4/WAV held in memory back with libavformat/libavcodec: what the container says
// (streams, metadata, top-level atom order) and, on request, every decoded video frame as RGB24.
// Used by tests and tools to check what the exporters wrote; never by the generation path.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace omnihost::media {

struct media_info {
    std::string format;        // libavformat's short name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "wav"
    std::map<std::string, std::string> metadata;  // container tags
    std::vector<std::string> top_level_boxes;      // MP4 only: box types in file order ("ftyp", "moov", ...)
    // First video stream (width 0 when there is none).
    std::string video_codec;   // e.g. "h264"
    std::string pixel_format;  // e.g. "yuv420p"
    int width = 0, height = 0;
    double fps = 0.0;          // average frame rate
    int64_t frames_decoded = 0;  // counted by decoding every packet (only when decoding)
    std::vector<uint8_t> rgb24;  // frames_decoded x height x width x 3 (only when decoding)
    double duration_s = 0.0;
    // First audio stream (channels 0 when there is none).
    std::string audio_codec;
    int channels = 0, sample_rate = 0;
};

// Throws media_error when the bytes cannot be parsed/decoded.
media_info probe_media(const std::vector<uint8_t> &bytes, bool decode_video);

}  // namespace omnihost::media
