// handlers.h — one function per API endpoint. Each reads what it needs, validates, and answers;
// none calls a plugin's start/stop/generate itself (the runtime slot's worker does).
#pragma once

#include "api/api_context.h"

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
} // namespace Poco::Net

namespace omnihost {

using server_request = Poco::Net::HTTPServerRequest;
using server_response = Poco::Net::HTTPServerResponse;

// handlers_control.cpp
void handle_status(api_context &context, server_request &request, server_response &response);
void handle_health(api_context &context, server_request &request, server_response &response);
void handle_start(api_context &context, server_request &request, server_response &response);
void handle_stop(api_context &context, server_request &request, server_response &response);
void handle_cancel(api_context &context, server_request &request, server_response &response);

// handlers_generate.cpp
void handle_generate_image(api_context &context, server_request &request, server_response &response);
void handle_generate_video(api_context &context, server_request &request, server_response &response);
void handle_generate_audio(api_context &context, server_request &request, server_response &response);
void handle_generate_tts(api_context &context, server_request &request, server_response &response);
void handle_chat(api_context &context, server_request &request, server_response &response);

// handlers_catalog.cpp
void handle_models(api_context &context, server_request &request, server_response &response);
void handle_recipes(api_context &context, server_request &request, server_response &response);
void handle_plugins(api_context &context, server_request &request, server_response &response);
void handle_command_preview(api_context &context, server_request &request, server_response &response);

// handlers_host.cpp
void handle_features(api_context &context, server_request &request, server_response &response);
void handle_check_venv(api_context &context, server_request &request, server_response &response);
void handle_settings(api_context &context, server_request &request, server_response &response); // GET and POST

} // namespace omnihost
