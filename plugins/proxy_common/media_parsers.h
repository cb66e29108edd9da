// Parsers for every response shape the upstream vLLM-Omni (and the playground's fallbacks) produce:
// chat/completions content lists and strings, images/generations data[], the old synchronous video
// JSON, audio in message.audio / content parts / top-level "audio", video jobs, and error bodies.
// Pure functions over JSON and bytes so they are tested without a server.
#pragma once

#include "proxy_error.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace omnihost::proxy {

struct media_payload {
    std::string bytes;  // decoded
    std::string mime;
};

// Each throws proxy_error (INTERNAL, or NOT_SUPPORTED for the serialization bug) naming what was
// missing when the response holds no payload of that kind.
media_payload parse_image_response(const nlohmann::json& response);
media_payload parse_video_response(const nlohmann::json& response);
media_payload parse_audio_response(const nlohmann::json& response);

// MIME for a /v1/audio/speech or /v1/audio/generate answer from its Content-Type; "" when the
// Content-Type is neither audio/* nor application/octet-stream.
std::string audio_mime_from_content_type(const std::string& content_type);

// One item of /v1/videos (async job).
struct upstream_video_job {
    std::string id;
    std::string status;  // queued | in_progress | completed | failed
    int progress = 0;
    std::string error;   // error.message when failed
};
upstream_video_job parse_video_job(const nlohmann::json& response);

// One chat piece: text, or base64 audio with its MIME type.
struct chat_piece {
    std::string text;
    std::string audio_b64;
    std::string audio_format;  // e.g. "audio/wav"
};
// Accepts a streamed chunk (choices[0].delta) or a whole response (choices[0].message).
std::vector<chat_piece> parse_chat_pieces(const nlohmann::json& chunk_or_response);

// The message in an upstream error body: {"error":{"message"}}, {"error":"..."}, {"detail":...},
// {"message":...}, or the raw text (trimmed to 500 chars).
std::string upstream_error_text(const std::string& body);

// True when the text carries the vLLM-Omni serializer bug ("... has no attribute 'save'").
bool is_serialization_bug(const std::string& text);

// Maps a non-2xx upstream answer to a proxy_error with a clear message. The serialization bug
// becomes NOT_SUPPORTED and points at in-process mode.
proxy_error upstream_http_error(int status, const std::string& body, const std::string& modality,
                               const std::string& endpoint);

// The error for a response that carried the serialization bug inside a 200 body.
proxy_error serialization_bug_error(const std::string& modality, const std::string& endpoint);

}  // namespace omnihost::proxy
