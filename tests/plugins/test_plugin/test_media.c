/* test_media.c — see test_media.h. Plain C99, no libm, no zlib. */
#include "test_media.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_le16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

uint8_t *test_media_wav(uint32_t sample_rate, uint32_t samples, uint64_t seed, size_t *out_size) {
    const uint32_t data_bytes = samples * 2u;
    uint8_t *buf = (uint8_t *)malloc(44u + data_bytes);
    uint32_t i;
    /* A triangle wave (integer maths only) whose period depends on the seed: 100..1000 Hz. */
    const uint32_t freq = 100u + (uint32_t)(seed % 901u);
    const uint32_t period = sample_rate / freq > 1 ? sample_rate / freq : 2;
    if (!buf) return NULL;
    memcpy(buf, "RIFF", 4);
    put_le32(buf + 4, 36u + data_bytes);
    memcpy(buf + 8, "WAVEfmt ", 8);
    put_le32(buf + 16, 16);               /* fmt chunk size */
    put_le16(buf + 20, 1);                /* PCM */
    put_le16(buf + 22, 1);                /* mono */
    put_le32(buf + 24, sample_rate);
    put_le32(buf + 28, sample_rate * 2u); /* byte rate */
    put_le16(buf + 32, 2);                /* block align */
    put_le16(buf + 34, 16);               /* bits per sample */
    memcpy(buf + 36, "data", 4);
    put_le32(buf + 40, data_bytes);
    for (i = 0; i < samples; ++i) {
        uint32_t phase = i % period;
        int32_t tri = (int32_t)((phase * 4u * 8000u) / period); /* 0 .. 32000 */
        int32_t v = tri < 16000 ? tri - 8000 : 24000 - tri;     /* -8000 .. 8000 */
        put_le16(buf + 44 + 2u * i, (uint32_t)(uint16_t)(int16_t)v);
    }
    *out_size = 44u + data_bytes;
    return buf;
}

static uint32_t crc_table[256];
static int crc_ready = 0;

static uint32_t crc32_of(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    if (!crc_ready) { /* racing initialisations compute identical tables: benign */
        uint32_t k, j;
        for (k = 0; k < 256; ++k) {
            uint32_t r = k;
            for (j = 0; j < 8; ++j) r = (r & 1u) ? 0xEDB88320u ^ (r >> 1) : r >> 1;
            crc_table[k] = r;
        }
        crc_ready = 1;
    }
    for (i = 0; i < n; ++i) c = crc_table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* Writes one PNG chunk at p (length, type, data, CRC over type+data); returns bytes written. */
static size_t png_chunk(uint8_t *p, const char *type, const uint8_t *data, uint32_t len) {
    put_be32(p, len);
    memcpy(p + 4, type, 4);
    if (len) memcpy(p + 8, data, len);
    put_be32(p + 8 + len, crc32_of(p + 4, 4u + len));
    return 12u + len;
}

uint8_t *test_media_png(uint32_t width, uint32_t height, uint64_t seed, size_t *out_size) {
    const size_t row = 1u + 3u * (size_t)width; /* filter byte + RGB */
    const size_t raw_len = row * height;
    const size_t blocks = raw_len / 65535u + 1u;
    const size_t zlen = 2u + raw_len + 5u * blocks + 4u; /* header, data, block headers, adler32 */
    uint8_t *raw = (uint8_t *)malloc(raw_len);
    uint8_t *z = (uint8_t *)malloc(zlen);
    uint8_t *png = (uint8_t *)malloc(8u + 25u + 12u + zlen + 12u);
    uint8_t ihdr[13];
    size_t x, y, pos, zp = 0, off = 0;
    uint32_t a = 1, b = 0;
    if (!raw || !z || !png) { free(raw); free(z); free(png); return NULL; }

    for (y = 0; y < height; ++y) {
        uint8_t *r = raw + y * row;
        r[0] = 0; /* filter: none */
        for (x = 0; x < width; ++x) {
            r[1 + 3 * x] = (uint8_t)((x * 255u) / (width > 1 ? width - 1 : 1));
            r[2 + 3 * x] = (uint8_t)((y * 255u) / (height > 1 ? height - 1 : 1));
            r[3 + 3 * x] = (uint8_t)(seed * 37u + x * y);
        }
    }
    /* zlib: CMF/FLG, stored deflate blocks of at most 65535 bytes, Adler-32 of the raw data. */
    z[zp++] = 0x78;
    z[zp++] = 0x01;
    do {
        size_t n = raw_len - off < 65535u ? raw_len - off : 65535u;
        int last = off + n == raw_len;
        z[zp++] = (uint8_t)(last ? 1 : 0);
        z[zp++] = (uint8_t)n; z[zp++] = (uint8_t)(n >> 8);
        z[zp++] = (uint8_t)~n; z[zp++] = (uint8_t)(~n >> 8);
        memcpy(z + zp, raw + off, n);
        zp += n;
        off += n;
    } while (off < raw_len);
    for (pos = 0; pos < raw_len; ++pos) {
        a = (a + raw[pos]) % 65521u;
        b = (b + a) % 65521u;
    }
    put_be32(z + zp, (b << 16) | a);
    zp += 4;

    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    put_be32(ihdr, width);
    put_be32(ihdr + 4, height);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 2;  /* colour type: truecolour */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* no interlace */
    pos = 8;
    pos += png_chunk(png + pos, "IHDR", ihdr, 13);
    pos += png_chunk(png + pos, "IDAT", z, (uint32_t)zp);
    pos += png_chunk(png + pos, "IEND", NULL, 0);
    free(raw);
    free(z);
    *out_size = pos;
    return png;
}

uint8_t *test_media_y4m(uint32_t width, uint32_t height, uint32_t frames, uint32_t fps, uint64_t seed,
                        size_t *out_size) {
    char header[96];
    const size_t luma = (size_t)width * height;
    const size_t chroma = (size_t)(width / 2) * (height / 2);
    const size_t frame_bytes = 6u + luma + 2u * chroma; /* "FRAME\n" + planes */
    int hlen = snprintf(header, sizeof header, "YUV4MPEG2 W%u H%u F%u:1 Ip A1:1 C420jpeg\n",
                        (unsigned)width, (unsigned)height, (unsigned)fps);
    uint8_t *buf = (uint8_t *)malloc((size_t)hlen + frames * frame_bytes);
    uint8_t *p;
    uint32_t f;
    size_t i, x, y;
    if (!buf) return NULL;
    memcpy(buf, header, (size_t)hlen);
    p = buf + hlen;
    for (f = 0; f < frames; ++f) {
        memcpy(p, "FRAME\n", 6);
        p += 6;
        /* a diagonal gradient that moves one pixel per frame */
        for (y = 0; y < height; ++y)
            for (x = 0; x < width; ++x) *p++ = (uint8_t)(16u + ((x + y + f + seed) * 4u) % 220u);
        for (i = 0; i < chroma; ++i) *p++ = (uint8_t)(128u + (seed % 64u));
        for (i = 0; i < chroma; ++i) *p++ = (uint8_t)(128u - (f % 64u));
    }
    *out_size = (size_t)(p - buf);
    return buf;
}
