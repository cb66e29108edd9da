// openai_handlers.h — the /v1 endpoints (and /health), each answering in the upstream vLLM-Omni
// server's shapes. Every generation goes through api/generate_request.h, the playground's
// validation path, against whatever model the runtime slot holds.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api_context.h"

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
} // namespace Poco::Net

namespace omnihost::openai {

using Request = Poco::Net::HTTPServerRequest;
using Response = Poco::Net::HTTPServerResponse;

// Reads the request body as a JSON object (or, when `allow_form`, a multipart/form-data form whose
// values become JSON: see form_value). Sends the error and returns nullopt on a refusal.
std::optional<nlohmann::json> read_request_object(ApiContext &context, Request &request, Response &response,
                                                  bool allow_form);

// The id segment of /v1/videos/{id}[/content].
std::string video_id_of(const std::string &path);

// handlers_sync.cpp
void handle_health(ApiContext &context, Request &request, Response &response);
void handle_models(ApiContext &context, Request &request, Response &response);
void handle_images(ApiContext &context, Request &request, Response &response);
void handle_speech(ApiContext &context, Request &request, Response &response);
void handle_audio_generate(ApiContext &context, Request &request, Response &response);
void handle_videos_sync(ApiContext &context, Request &request, Response &response);

// handlers_videos.cpp (the job queue's view of videos)
void handle_videos_create(ApiContext &context, Request &request, Response &response);
void handle_videos_list(ApiContext &context, Request &request, Response &response);
void handle_video_retrieve(ApiContext &context, Request &request, Response &response);
void handle_video_delete(ApiContext &context, Request &request, Response &response);
void handle_video_content(ApiContext &context, Request &request, Response &response);

// handlers_chat.cpp
void handle_chat_completions(ApiContext &context, Request &request, Response &response);

} // namespace omnihost::openai
