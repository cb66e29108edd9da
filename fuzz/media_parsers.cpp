// An upstream (vLLM-Omni or OpenAI-compatible) answer body as the proxies read it: the error-text
// extraction on the raw body, then the bounded parse and every response-shape parser (image,
// video, audio, video job, chat pieces), and the Content-Type mapping.
// Properties: a body without a payload is a proxy_error, nothing else escapes (no JSON type
// errors, no base64 exceptions); a payload that is returned is non-empty and of the asked kind.
#include "fuzz_check.h"

#include "common/json_limits.h"
#include "media_parsers.h"

namespace {

using namespace omnihost::proxy;

template <class F>
void proxy_error_only(F &&parse) {
    try {
        parse();
    } catch (const proxy_error &e) {
        FUZZ_CHECK(*e.what() != '\0', "a ProxyError without a message");
    }
}

void check_payload(const media_payload &p, std::string_view kind) {
    FUZZ_CHECK(!p.bytes.empty(), "an empty media payload was returned");
    FUZZ_CHECK(p.mime.rfind(std::string(kind) + "/", 0) == 0 || p.mime == "application/octet-stream",
               "a payload of another kind than asked");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string body(reinterpret_cast<const char *>(data), size);
    (void)upstream_error_text(body);
    (void)is_serialization_bug(body);
    (void)audio_mime_from_content_type(body);
    for (const int status : {400, 401, 404, 500, 503}) {
        const proxy_error e = upstream_http_error(status, body, "image", "/v1/images/generations");
        FUZZ_CHECK(e.status() != OMNIHOST_OK, "an upstream error mapped to OK");
    }

    const nlohmann::json r = omnihost::parse_json_bounded_or_discarded(body);
    if (r.is_discarded()) return 0;
    proxy_error_only([&] { check_payload(parse_image_response(r), "image"); });
    proxy_error_only([&] { check_payload(parse_video_response(r), "video"); });
    proxy_error_only([&] { check_payload(parse_audio_response(r), "audio"); });
    proxy_error_only([&] {
        const upstream_video_job job = parse_video_job(r);
        FUZZ_CHECK(!job.id.empty(), "a video job without an id was returned");
    });
    for (const chat_piece &piece : parse_chat_pieces(r))
        FUZZ_CHECK(!piece.text.empty() || !piece.audio_b64.empty(), "an empty chat piece");
    return 0;
}
