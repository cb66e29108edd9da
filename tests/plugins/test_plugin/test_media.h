/*
 * test_media.h — tiny, deterministic, REAL media files for the test plugin (no codecs needed):
 *   WAV  : RIFF/WAVE PCM 16-bit mono (plays anywhere),
 *   PNG  : 8-bit RGB, zlib stream of stored (uncompressed) deflate blocks, valid CRCs (opens anywhere),
 *   Y4M  : YUV4MPEG2 4:2:0 raw video (ffprobe/ffmpeg/mpv read it; browsers do not play it).
 * Each returns a malloc'ed buffer (caller frees) and its size in *out_size, or NULL on allocation
 * failure. `seed` varies the content so different requests give different bytes.
 */
#ifndef OMNIHOST_TEST_MEDIA_H
#define OMNIHOST_TEST_MEDIA_H

#include <stddef.h>
#include <stdint.h>

uint8_t *test_media_wav(uint32_t sample_rate, uint32_t samples, uint64_t seed, size_t *out_size);
uint8_t *test_media_png(uint32_t width, uint32_t height, uint64_t seed, size_t *out_size);
uint8_t *test_media_y4m(uint32_t width, uint32_t height, uint32_t frames, uint32_t fps, uint64_t seed,
                        size_t *out_size);

#endif
