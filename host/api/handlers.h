// handlers.h — one function per API endpoint. Each reads what it needs, validates, and answers;
// none calls a plugin's start/stop/generate itself (the runtime slot's worker does).
#pragma once

#include "api/api_context.h"

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
} // namespace Poco::Net

namespace omnihost {

using Request = Poco::Net::HTTPServerRequest;
using Response = Poco::Net::HTTPServerResponse;

// handlers_control.cpp
void handle_status(ApiContext &context, Request &request, Response &response);
void handle_health(ApiContext &context, Request &request, Response &response);
void handle_start(ApiContext &context, Request &request, Response &response);
void handle_stop(ApiContext &context, Request &request, Response &response);
void handle_cancel(ApiContext &context, Request &request, Response &response);

// handlers_generate.cpp
void handle_generate_image(ApiContext &context, Request &request, Response &response);
void handle_generate_video(ApiContext &context, Request &request, Response &response);
void handle_generate_audio(ApiContext &context, Request &request, Response &response);
void handle_generate_tts(ApiContext &context, Request &request, Response &response);
void handle_chat(ApiContext &context, Request &request, Response &response);

// handlers_catalog.cpp
void handle_models(ApiContext &context, Request &request, Response &response);
void handle_recipes(ApiContext &context, Request &request, Response &response);
void handle_plugins(ApiContext &context, Request &request, Response &response);
void handle_command_preview(ApiContext &context, Request &request, Response &response);

// handlers_host.cpp
void handle_features(ApiContext &context, Request &request, Response &response);
void handle_check_venv(ApiContext &context, Request &request, Response &response);
void handle_settings(ApiContext &context, Request &request, Response &response); // GET and POST

} // namespace omnihost
