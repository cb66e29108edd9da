#include "api/router.h"

#include <exception>
#include <map>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <spdlog/spdlog.h>

#include "api/auth.h"
#include "api/handlers.h"
#include "api/http_io.h"
#include "api/static_files.h"
#include "log_bus/ws_logs_handler.h"

namespace omnihost {
namespace {

using HandlerFn = void (*)(ApiContext &, Request &, Response &);

struct Route {
    const char *method;
    HandlerFn handler;
};

const std::map<std::string, Route> &routes() {
    static const std::map<std::string, Route> table = {
        {"/api/omni/status", {"GET", handle_status}},
        {"/api/omni/health", {"GET", handle_health}},
        {"/api/omni/start", {"POST", handle_start}},
        {"/api/omni/stop", {"POST", handle_stop}},
        {"/api/omni/cancel", {"POST", handle_cancel}},
        {"/api/omni/generate", {"POST", handle_generate_image}},
        {"/api/omni/generate-video", {"POST", handle_generate_video}},
        {"/api/omni/generate-audio", {"POST", handle_generate_audio}},
        {"/api/omni/generate-tts", {"POST", handle_generate_tts}},
        {"/api/omni/chat", {"POST", handle_chat}},
        {"/api/omni/models", {"GET", handle_models}},
        {"/api/omni/recipes", {"GET", handle_recipes}},
        {"/api/omni/plugins", {"GET", handle_plugins}},
        {"/api/omni/command-preview", {"POST", handle_command_preview}},
    };
    return table;
}

std::string path_of(const std::string &uri) { return uri.substr(0, uri.find_first_of("?#")); }

// Answers one fixed error (auth, unknown path, wrong method).
class ErrorHandler : public Poco::Net::HTTPRequestHandler {
public:
    ErrorHandler(ApiError error, std::string allow = "") : error_(std::move(error)), allow_(std::move(allow)) {}
    void handleRequest(Request &request, Response &response) override {
        // Consume a small body so a kept-alive connection stays in sync; larger ones get closed.
        std::string ignored;
        if (read_body(request, 1 << 20, ignored)) response.setKeepAlive(false);
        if (!allow_.empty()) response.set("Allow", allow_);
        if (error_.status == 401) response.set("WWW-Authenticate", "Bearer");
        send_error(response, error_);
    }

private:
    ApiError error_;
    std::string allow_;
};

class ApiHandler : public Poco::Net::HTTPRequestHandler {
public:
    ApiHandler(ApiContext &context, HandlerFn handler) : context_(context), handler_(handler) {}
    void handleRequest(Request &request, Response &response) override {
        try {
            handler_(context_, request, response);
        } catch (const std::exception &e) {
            spdlog::error("{} {}: {}", request.getMethod(), request.getURI(), e.what());
            if (!response.sent()) send_error(response, {500, std::string("internal error: ") + e.what(), ""});
        } catch (...) {
            if (!response.sent()) send_error(response, {500, "internal error", ""});
        }
    }

private:
    ApiContext &context_;
    HandlerFn handler_;
};

class StaticHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit StaticHandler(std::string root) : root_(std::move(root)) {}
    void handleRequest(Request &request, Response &response) override {
        try {
            serve_static(root_, request, response);
        } catch (const std::exception &e) {
            if (!response.sent()) send_error(response, {500, std::string("internal error: ") + e.what(), ""});
        }
    }

private:
    std::string root_;
};

} // namespace

Poco::Net::HTTPRequestHandler *ApiRouter::createRequestHandler(const Poco::Net::HTTPServerRequest &request) {
    const std::string path = path_of(request.getURI());
    const bool is_api = path.rfind("/api/", 0) == 0 || path == "/api";
    const bool is_ws = path.rfind("/ws/", 0) == 0 || path == "/ws";
    if (is_api || is_ws) {
        if (!request_is_authorized(request, context_.options.token, is_ws))
            return new ErrorHandler({401, "Authorization: a valid bearer token is required", "Authorization"});
    }
    if (is_ws) {
        if (path == log_bus::ws_logs_path) return log_bus::make_ws_logs_handler(*context_.bus);
        return new ErrorHandler({404, "no WebSocket at " + path, ""});
    }
    if (is_api) {
        auto it = routes().find(path);
        if (it == routes().end()) return new ErrorHandler({404, "no API endpoint " + path, ""});
        if (request.getMethod() != it->second.method)
            return new ErrorHandler({405, "method " + request.getMethod() + " not allowed on " + path +
                                              " (use " + it->second.method + ")", ""},
                                    it->second.method);
        return new ApiHandler(context_, it->second.handler);
    }
    return new StaticHandler(context_.options.web_dir);
}

} // namespace omnihost
