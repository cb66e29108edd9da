#include "image_fixtures.h"
#include "media/image_decode.h"
#include "media/media_error.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

using namespace omnihost::media;
namespace ti = omnihost::test_images;

namespace {

double mean_abs_diff(const std::vector<uint8_t> &a, const std::vector<uint8_t> &b) {
    REQUIRE(a.size() == b.size());
    double sum = 0;
    for (size_t i = 0; i < a.size(); ++i) sum += std::abs(int(a[i]) - int(b[i]));
    return sum / double(a.size());
}

const image_decode_limits kLimits{1 << 20, 4096, 4096};

std::string error_of(const std::vector<uint8_t> &bytes, const image_decode_limits &limits = kLimits) {
    try {
        decode_image(bytes.data(), bytes.size(), limits);
    } catch (const media_error &e) {
        return e.what();
    }
    return "";
}

std::string payload_error(const std::string &text, size_t max_bytes = 1 << 20) {
    try {
        decode_image_payload(text, max_bytes);
    } catch (const media_error &e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

void put_be32(std::vector<uint8_t> &b, size_t at, uint32_t v) {
    b[at] = uint8_t(v >> 24);
    b[at + 1] = uint8_t(v >> 16);
    b[at + 2] = uint8_t(v >> 8);
    b[at + 3] = uint8_t(v);
}

}  // namespace

TEST_SUITE("image_decode") {
TEST_CASE("PNG decodes to exactly the encoded pixels, odd sizes included") {
    for (auto [w, h] : {std::pair{64, 48}, std::pair{37, 23}, std::pair{1, 1}}) {
        const auto rgb = ti::pattern_rgb(w, h);
        const auto png = ti::encode_rgb(rgb, w, h, "png");
        const auto img = decode_image(png.data(), png.size(), kLimits);
        CHECK(img.width == w);
        CHECK(img.height == h);
        CHECK(img.rgb == rgb);
        const auto header = read_image_header(png.data(), png.size());
        CHECK(header.format == image_format::png);
        CHECK(header.width == w);
        CHECK(header.height == h);
    }
}

TEST_CASE("JPEG decodes close to the source (lossy, full range)") {
    const int w = 80, h = 56;
    const auto rgb = ti::pattern_rgb(w, h);
    const auto jpg = ti::encode_rgb(rgb, w, h, "mjpeg");
    CHECK(read_image_header(jpg.data(), jpg.size()).format == image_format::jpeg);
    CHECK(read_image_header(jpg.data(), jpg.size()).width == w);
    const auto img = decode_image(jpg.data(), jpg.size(), kLimits);
    REQUIRE(img.width == w);
    REQUIRE(img.height == h);
    // Quality-2 4:4:4 JPEG of a smooth picture: a few levels off on average, not a colour shift.
    CHECK(mean_abs_diff(img.rgb, rgb) < 4.0);
}

TEST_CASE("WebP: lossless is exact, lossy is close") {
    const int w = 48, h = 40;
    const auto rgb = ti::pattern_rgb(w, h);
    const auto lossless = ti::encode_rgb(rgb, w, h, "libwebp", true);
    const auto header = read_image_header(lossless.data(), lossless.size());
    CHECK(header.format == image_format::webp);
    CHECK(header.width == w);
    CHECK(header.height == h);
    const auto exact = decode_image(lossless.data(), lossless.size(), kLimits);
    CHECK(exact.rgb == rgb);

    const auto lossy = ti::encode_rgb(rgb, w, h, "libwebp", false);
    CHECK(read_image_header(lossy.data(), lossy.size()).width == w);
    const auto close = decode_image(lossy.data(), lossy.size(), kLimits);
    REQUIRE(close.width == w);
    REQUIRE(close.height == h);
    CHECK(mean_abs_diff(close.rgb, rgb) < 6.0);
}

TEST_CASE("empty, unknown and corrupt input are refused with a reason") {
    CHECK(contains(error_of({}), "empty"));
    CHECK(contains(error_of({'G', 'I', 'F', '8', '9', 'a', 0, 0, 0, 0, 0, 0}), "not PNG, JPEG or WebP"));
    std::vector<uint8_t> noise(500);
    for (size_t i = 0; i < noise.size(); ++i) noise[i] = uint8_t((i * 2654435761u) >> 13);
    CHECK(contains(error_of(noise), "not PNG, JPEG or WebP"));

    const int w = 64, h = 48;
    const auto rgb = ti::pattern_rgb(w, h);
    for (const std::string enc : {"png", "mjpeg", "libwebp"}) {
        CAPTURE(enc);
        const auto good = ti::encode_rgb(rgb, w, h, enc);
        // Cut in half: the header is intact, the picture is not.
        std::vector<uint8_t> truncated(good.begin(), good.begin() + long(good.size() / 2));
        CAPTURE(error_of(truncated));
        CHECK(contains(error_of(truncated), "corrupt"));
        // Cut inside the header.
        std::vector<uint8_t> stub(good.begin(), good.begin() + 14);
        CHECK(contains(error_of(stub), "corrupt"));
        // Scrambled body: PNG has checksums, JPEG's entropy code breaks; lossy WebP (VP8) has
        // neither, so a scrambled one decodes to some other picture and is not tested here.
        if (enc == "libwebp") continue;
        auto scrambled = good;
        for (size_t i = good.size() / 3; i < good.size() - 4; ++i) scrambled[i] ^= 0x5A;
        CAPTURE(error_of(scrambled));
        CHECK(contains(error_of(scrambled), "corrupt"));
    }
}

TEST_CASE("huge dimensions in the header are refused before decoding") {
    auto png = ti::encode_rgb(ti::pattern_rgb(16, 16), 16, 16, "png");
    put_be32(png, 16, 100000);
    put_be32(png, 20, 100000);
    const auto header = read_image_header(png.data(), png.size());
    CHECK(header.width == 100000);
    CHECK(contains(error_of(png), "100000 pixels wide; the limit is 4096"));

    auto tall = ti::encode_rgb(ti::pattern_rgb(16, 16), 16, 16, "png");
    put_be32(tall, 20, 5000);
    CHECK(contains(error_of(tall), "5000 pixels high; the limit is 4096"));

    // A JPEG whose frame header claims 60000x60000.
    auto jpg = ti::encode_rgb(ti::pattern_rgb(16, 16), 16, 16, "mjpeg");
    size_t sof = 0;
    for (size_t i = 2; i + 1 < jpg.size(); ++i)
        if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0) {
            sof = i;
            break;
        }
    REQUIRE(sof > 0);
    jpg[sof + 5] = 0xEA, jpg[sof + 6] = 0x60, jpg[sof + 7] = 0xEA, jpg[sof + 8] = 0x60;
    CHECK(contains(error_of(jpg), "60000 pixels wide"));

    // WebP VP8X canvas 16384x16384 (and animated: refused as such first).
    std::vector<uint8_t> vp8x = {'R', 'I', 'F', 'F', 22, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X',
                                 10,  0,   0,   0,   0,  0, 0, 0, 0xFF, 0x3F, 0, 0xFF, 0x3F, 0};
    CHECK(read_image_header(vp8x.data(), vp8x.size()).width == 16384);
    CHECK(contains(error_of(vp8x), "16384 pixels wide"));
    vp8x[20] = 0x02;
    CHECK(contains(error_of(vp8x), "animated"));
}

TEST_CASE("the byte limit is checked first") {
    const auto png = ti::encode_rgb(ti::pattern_rgb(64, 48), 64, 48, "png");
    const image_decode_limits small{png.size() - 1, 4096, 4096};
    CHECK(contains(error_of(png, small), "bytes; the limit is " + std::to_string(png.size() - 1)));
    const image_decode_limits exact{png.size(), 64, 48};
    CHECK(error_of(png, exact).empty());
    const image_decode_limits narrow{0, 63, 48};
    CHECK(contains(error_of(png, narrow), "64 pixels wide; the limit is 63"));
}
}

TEST_SUITE("image_payload") {
TEST_CASE("data URLs and plain base64 give the bytes back") {
    const auto png = ti::encode_rgb(ti::pattern_rgb(8, 8), 8, 8, "png");
    const auto jpg = ti::encode_rgb(ti::pattern_rgb(8, 8), 8, 8, "mjpeg");
    const auto webp = ti::encode_rgb(ti::pattern_rgb(8, 8), 8, 8, "libwebp", true);
    auto p = decode_image_payload("data:image/png;base64," + ti::base64(png), 1 << 20);
    CHECK(p.bytes == png);
    CHECK(p.mime == "image/png");
    p = decode_image_payload("DATA:Image/JPEG;base64," + ti::base64(jpg), 1 << 20);
    CHECK(p.bytes == jpg);
    CHECK(p.mime == "image/jpeg");
    p = decode_image_payload("data:image/webp;base64," + ti::base64(webp), 1 << 20);
    CHECK(p.bytes == webp);
    p = decode_image_payload(ti::base64(jpg), 1 << 20);  // plain base64: type from the bytes
    CHECK(p.bytes == jpg);
    CHECK(p.mime == "image/jpeg");
    // Line-wrapped base64 (as some tools write it) is fine.
    const std::string flat = ti::base64(png);
    std::string wrapped;
    for (size_t i = 0; i < flat.size(); i += 76) wrapped.append(flat, i, 76).push_back('\n');
    CHECK(decode_image_payload(wrapped, 1 << 20).bytes == png);
}

TEST_CASE("wrong MIME, bad base64, empty and oversize text are refused") {
    const auto png = ti::encode_rgb(ti::pattern_rgb(8, 8), 8, 8, "png");
    const auto b64 = ti::base64(png);
    CHECK(contains(payload_error(""), "empty"));
    CHECK(contains(payload_error("data:image/png;base64,"), "empty"));
    CHECK(contains(payload_error("data:image/gif;base64," + b64), "'image/gif'"));
    CHECK(contains(payload_error("data:text/plain;base64," + b64), "'text/plain'"));
    CHECK(contains(payload_error("data:image/jpeg;base64," + b64), "says image/jpeg but the bytes are image/png"));
    CHECK(contains(payload_error("data:image/png," + b64), "must be base64"));
    CHECK(contains(payload_error("data:image/png;base64"), "no ','"));
    CHECK(contains(payload_error("data:image/png;base64,iVBOR*w0K"), "not valid base64"));
    CHECK(contains(payload_error("aGVsbG8gd29ybGQ="), "not PNG, JPEG or WebP"));  // "hello world"
    CHECK(contains(payload_error(b64, png.size() - 1), "bytes; the limit is"));
    CHECK(payload_error(b64, png.size()).empty());
    // A very long text is refused on its length, before any decoding.
    CHECK(contains(payload_error(std::string(40 << 20, 'A'), 1 << 20), "bytes; the limit is 1048576"));
}

TEST_CASE("sha256_hex matches the standard test vector") {
    const std::string abc = "abc";
    CHECK(sha256_hex(reinterpret_cast<const uint8_t *>(abc.data()), abc.size()) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
}
