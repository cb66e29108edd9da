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

using server_request = Poco::Net::HTTPServerRequest;
using server_response = Poco::Net::HTTPServerResponse;

// Reads the request body as a JSON object (or, when `allow_form`, a multipart/form-data form whose
// values become JSON: see form_value). Sends the error and returns nullopt on a refusal.
std::optional<nlohmann::json> read_request_object(api_context &context, server_request &request, server_response &response,
                                                  bool allow_form);

// The id segment of /v1/videos/{id}[/content].
std::string video_id_of(const std::string &path);

// handlers_sync.cpp
void handle_health(api_context &context, server_request &request, server_response &response);
void handle_models(api_context &context, server_request &request, server_response &response);
void handle_images(api_context &context, server_request &request, server_response &response);
void handle_speech(api_context &context, server_request &request, server_response &response);
void handle_audio_generate(api_context &context, server_request &request, server_response &response);
void handle_videos_sync(api_context &context, server_request &request, server_response &response);

// handlers_videos.cpp (the job queue's view of videos)
void handle_videos_create(api_context &context, server_request &request, server_response &response);
void handle_videos_list(api_context &context, server_request &request, server_response &response);
void handle_video_retrieve(api_context &context, server_request &request, server_response &response);
void handle_video_delete(api_context &context, server_request &request, server_response &response);
void handle_video_content(api_context &context, server_request &request, server_response &response);

// handlers_chat.cpp
void handle_chat_completions(api_context &context, server_request &request, server_response &response);

} // namespace omnihost::openai
