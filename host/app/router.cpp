#include "app/router.h"

#include <exception>
#include <map>
#include <memory>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <spdlog/spdlog.h>

#include "api/auth.h"
#include "api/browser_guard.h"
#include "api/handlers.h"
#include "api/handlers_jobs.h"
#include "api/http_io.h"
#include "api/static_files.h"
#include "log_bus/ws_logs_handler.h"
#include "metrics/metrics_handler.h"
#include "openai/openai_routes.h"
#include "api/route_handlers.h"

namespace omnihost {
namespace {

using handler_fn = void (*)(api_context &, server_request &, server_response &);

struct route_entry {
    const char *method; // one method, or several separated by ','
    handler_fn handler;
};

bool method_allowed(const std::string &allowed, const std::string &method) {
    size_t start = 0;
    for (size_t comma = allowed.find(','); ; comma = allowed.find(',', start)) {
        if (allowed.substr(start, comma == std::string::npos ? std::string::npos : comma - start) == method) return true;
        if (comma == std::string::npos) return false;
        start = comma + 1;
    }
}

const std::map<std::string, route_entry> &routes() {
    static const std::map<std::string, route_entry> table = {
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
        {"/api/omni/check-venv", {"POST", handle_check_venv}},
        {"/api/features", {"GET", handle_features}},
        {"/api/settings", {"GET,POST", handle_settings}},
        {"/api/jobs", {"GET,POST", handle_jobs}},
    };
    return table;
}

std::string path_of(const std::string &uri) { return uri.substr(0, uri.find_first_of("?#")); }

// The route a request is counted under on /metrics: a fixed name, never the raw path.
std::string route_template(const std::string &path) {
    if (routes().count(path) || path == metrics::kMetricsPath || path == log_bus::ws_logs_path) return path;
    if (openai::is_openai_path(path)) return openai::route_template(path);
    if (path.rfind("/api/jobs/", 0) == 0)
        return path.size() > 7 && path.compare(path.size() - 7, 7, "/output") == 0 ? "/api/jobs/{id}/output" : "/api/jobs/{id}";
    if (path.rfind("/api/", 0) == 0 || path == "/api" || path.rfind("/ws/", 0) == 0 || path == "/ws") return "unmatched";
    return "static";
}

// The playground API's handlers (route_handlers.h) write errors as {"error","field"}.
Poco::Net::HTTPRequestHandler *error_handler(api_error error, std::string allow = "") {
    return new fixed_error_handler(send_error, std::move(error), std::move(allow));
}

Poco::Net::HTTPRequestHandler *api_handler(api_context &context, handler_fn handler, const std::string &route) {
    return new route_handler(send_error, context, handler, route);
}

// Puts the security headers on whatever the inner handler answers (API, static, errors, the
// WebSocket's refusals).
class secured_handler : public Poco::Net::HTTPRequestHandler {
public:
    secured_handler(Poco::Net::HTTPRequestHandler *inner, std::string host_header)
        : inner_(inner), host_header_(std::move(host_header)) {}
    void handleRequest(server_request &request, server_response &response) override {
        set_security_headers(response, host_header_);
        inner_->handleRequest(request, response);
    }

private:
    std::unique_ptr<Poco::Net::HTTPRequestHandler> inner_;
    std::string host_header_;
};

class static_handler : public Poco::Net::HTTPRequestHandler {
public:
    explicit static_handler(std::string root) : root_(std::move(root)) {}
    void handleRequest(server_request &request, server_response &response) override {
        try {
            serve_static(root_, request, response);
        } catch (const std::exception &e) {
            if (!response.sent()) send_error(response, {500, std::string("internal error: ") + e.what(), ""});
        }
    }

private:
    std::string root_;
};

// A boundary refusal is logged: the operator should see that some page tried.
Poco::Net::HTTPRequestHandler *refuse(const Poco::Net::HTTPServerRequest &request, const api_error &error) {
    spdlog::warn("refused {} {} ({}): {}", request.getMethod(), path_of(request.getURI()).substr(0, 200),
                 error.status, error.message);
    return error_handler(error);
}

} // namespace

api_router::api_router(api_context &context) : context_(context) {
    ws_options_.clients = std::make_shared<std::atomic<int>>(0);
    ws_options_.max_clients = context.options.max_ws_clients;
}

Poco::Net::HTTPRequestHandler *api_router::createRequestHandler(const Poco::Net::HTTPServerRequest &request) {
    // The Host header is echoed into connect-src only after it passed the allow-list.
    const bool host_ok = !check_host_header(context_.browser, request);
    Poco::Net::HTTPRequestHandler *handler = new secured_handler(route(request), host_ok ? request.get("Host", "") : "");
    if (context_.metrics)
        handler = metrics::metered(*context_.metrics, handler, route_template(path_of(request.getURI())), request.getMethod());
    return handler;
}

Poco::Net::HTTPRequestHandler *api_router::route(const Poco::Net::HTTPServerRequest &request) {
    const std::string path = path_of(request.getURI());
    const bool is_api = path.rfind("/api/", 0) == 0 || path == "/api";
    const bool is_ws = path.rfind("/ws/", 0) == 0 || path == "/ws";
    const bool is_metrics = path == metrics::kMetricsPath;
    // The browser boundary comes before everything, auth included: a rebinding page or a foreign
    // origin learns nothing, not even whether a token is needed.
    if (auto refusal = check_host_header(context_.browser, request)) return refuse(request, *refusal);
    if (is_ws || is_state_changing(request.getMethod())) {
        if (auto refusal = check_origin(context_.browser, request)) return refuse(request, *refusal);
    }
    // The OpenAI-style routes check the same token themselves, answering in OpenAI's error shape.
    if (openai::is_openai_path(path)) return openai::make_handler(context_, request, path);
    if (is_api || is_ws || is_metrics) {
        if (!request_is_authorized(request, context_.options.token, is_ws))
            return error_handler({401, "Authorization: a valid bearer token is required", "Authorization"});
    }
    if (is_metrics) return api_handler(context_, metrics::handle_metrics, path);
    if (is_ws) {
        if (path == log_bus::ws_logs_path) return log_bus::make_ws_logs_handler(*context_.bus, ws_options_);
        return error_handler({404, "no WebSocket at " + path, ""});
    }
    if (is_api) {
        auto it = routes().find(path);
        // /api/jobs/{id} and /api/jobs/{id}/output: one handler reads the id from the path.
        static const route_entry job_item{"GET,DELETE", handle_job_item};
        if (it == routes().end() && path.rfind("/api/jobs/", 0) == 0) {
            if (!method_allowed(job_item.method, request.getMethod()))
                return error_handler({405, "method " + request.getMethod() + " not allowed on " + path + " (use GET, DELETE)", ""},
                                        "GET, DELETE");
            if (auto refusal = check_json_content_type(request)) return refuse(request, *refusal);
            return api_handler(context_, job_item.handler, "/api/jobs/{id}");
        }
        if (it == routes().end()) return error_handler({404, "no API endpoint " + path, ""});
        if (!method_allowed(it->second.method, request.getMethod())) {
            std::string allow = it->second.method;
            for (size_t at = allow.find(','); at != std::string::npos; at = allow.find(',', at + 2)) allow.replace(at, 1, ", ");
            return error_handler({405, "method " + request.getMethod() + " not allowed on " + path +
                                              " (use " + allow + ")", ""},
                                    allow);
        }
        if (auto refusal = check_json_content_type(request)) return refuse(request, *refusal);
        return api_handler(context_, it->second.handler, path);
    }
    return new static_handler(context_.options.web_dir);
}

} // namespace omnihost
