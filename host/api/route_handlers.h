// route_handlers.h — the two request handlers every route table of the host needs: one that
// answers a fixed error (unknown path, wrong method, missing token) and one that runs a route
// function, turning an exception that escaped it into a 500. The playground API (api/router.cpp)
// and the OpenAI-style API (openai/openai_routes.cpp) differ only in how an error body is
// written, so that writer is a parameter rather than a reason for two copies.
#pragma once

#include <string>
#include <utility>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <spdlog/spdlog.h>

#include "api/api_context.h"
#include "api/http_io.h"

namespace omnihost {

using error_writer = void (*)(Poco::Net::HTTPServerResponse &, const api_error &);
using route_function = void (*)(api_context &, Poco::Net::HTTPServerRequest &, Poco::Net::HTTPServerResponse &);

// Answers one fixed error; `allow` fills the Allow header of a 405.
class fixed_error_handler : public Poco::Net::HTTPRequestHandler {
public:
    fixed_error_handler(error_writer write, api_error error, std::string allow = "")
        : write_(write), error_(std::move(error)), allow_(std::move(allow)) {}
    void handleRequest(Poco::Net::HTTPServerRequest &request, Poco::Net::HTTPServerResponse &response) override {
        // Consume a small body so a kept-alive connection stays in sync; larger ones get closed.
        std::string ignored;
        if (read_body(request, 1 << 20, ignored)) response.setKeepAlive(false);
        if (!allow_.empty()) response.set("Allow", allow_);
        if (error_.status == 401) response.set("WWW-Authenticate", "Bearer");
        write_(response, error_);
    }

private:
    error_writer write_;
    api_error error_;
    std::string allow_;
};

// Runs one route; `route` names it in the log (a template such as /v1/videos/{id}, never a query).
class route_handler : public Poco::Net::HTTPRequestHandler {
public:
    route_handler(error_writer write, api_context &context, route_function handler, std::string route)
        : write_(write), context_(context), handler_(handler), route_(std::move(route)) {}
    void handleRequest(Poco::Net::HTTPServerRequest &request, Poco::Net::HTTPServerResponse &response) override {
        try {
            handler_(context_, request, response);
        } catch (const std::exception &e) {
            spdlog::error("{} {}: {}", request.getMethod(), route_, e.what());
            if (!response.sent()) write_(response, {500, std::string("internal error: ") + e.what(), ""});
        } catch (...) {
            spdlog::error("{} {}: unknown exception", request.getMethod(), route_);
            if (!response.sent()) write_(response, {500, "internal error", ""});
        }
    }

private:
    error_writer write_;
    api_context &context_;
    route_function handler_;
    std::string route_;
};

} // namespace omnihost
