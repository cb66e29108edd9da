// Real media payloads for the stand-in: PNG (stored-deflate zlib, no compression library needed),
// 16-bit PCM WAV, and a tiny H.264 MP4 made at build time by make_sample_mp4.
#pragma once

#include <string>

namespace standin {

std::string make_png(int width, int height, int seed);
std::string make_wav(double seconds, int sample_rate, int channels, double frequency_hz);
std::string sample_mp4();
std::string base64(const std::string& bytes);

}  // namespace standin
