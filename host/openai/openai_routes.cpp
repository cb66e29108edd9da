#include "openai/openai_routes.h"

#include <sstream>

#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/PartHandler.h>
#include <spdlog/spdlog.h>

#include "api/auth.h"
#include "api/browser_guard.h"
#include "api/http_io.h"
#include "api/route_handlers.h"
#include "jobs/job_types.h"
#include "openai/openai_errors.h"
#include "openai/openai_handlers.h"
#include "openai/openai_mapping.h"

namespace omnihost::openai {
namespace {

using handler_fn = void (*)(api_context &, server_request &, server_response &);

struct route_entry {
    const char *path;   // template
    const char *method;
    handler_fn handler;
    bool form = false;  // multipart/form-data accepted besides JSON
};

const route_entry kRoutes[] = {
    {"/health", "GET", handle_health},
    {"/v1/models", "GET", handle_models},
    {"/v1/videos", "POST", handle_videos_create, true},
    {"/v1/videos", "GET", handle_videos_list},
    {"/v1/videos/sync", "POST", handle_videos_sync, true},
    {"/v1/videos/{id}", "GET", handle_video_retrieve},
    {"/v1/videos/{id}", "DELETE", handle_video_delete},
    {"/v1/videos/{id}/content", "GET", handle_video_content},
    {"/v1/images/generations", "POST", handle_images},
    {"/v1/audio/speech", "POST", handle_speech},
    {"/v1/audio/generate", "POST", handle_audio_generate},
    {"/v1/chat/completions", "POST", handle_chat_completions},
};

constexpr const char *kVideosPrefix = "/v1/videos/";

// The OpenAI-style handlers (route_handlers.h) write errors in OpenAI's {"error":{...}} shape.
void write_openai_error(server_response &response, const api_error &error) { send_openai_error(response, error); }

Poco::Net::HTTPRequestHandler *error_handler(api_error error, std::string allow = "") {
    return new fixed_error_handler(write_openai_error, std::move(error), std::move(allow));
}

// Keeps the one file part a route takes (input_reference: the first frame of a video, as a data
// URL for the host's image checks); any other file part is discarded and named in the refusal.
class file_parts : public Poco::Net::PartHandler {
public:
    void handlePart(const Poco::Net::MessageHeader &header, std::istream &stream) override {
        std::string disposition;
        Poco::Net::NameValueCollection parameters;
        Poco::Net::MessageHeader::splitParameters(header.get("Content-Disposition", ""), disposition, parameters);
        const std::string name = parameters.get("name", "file");
        std::string bytes;
        char buffer[8192];
        while (stream.read(buffer, sizeof buffer) || stream.gcount() > 0) bytes.append(buffer, static_cast<size_t>(stream.gcount()));
        if (name == "input_reference" && !fields.contains(name)) {
            const std::string type = header.get("Content-Type", "application/octet-stream");
            fields[name] = "data:" + type + ";base64," + base64_encode(bytes);
        } else if (refused.empty()) {
            refused = name;
        }
    }
    nlohmann::json fields = nlohmann::json::object();
    std::string refused;
};

bool is_form(const server_request &request) {
    const std::string type = request.getContentType();
    return type.rfind("multipart/form-data", 0) == 0;
}

} // namespace

bool is_openai_path(const std::string &path) {
    return path == "/health" || path == "/v1" || path.rfind("/v1/", 0) == 0;
}

std::string video_id_of(const std::string &path) {
    if (path.rfind(kVideosPrefix, 0) != 0) return "";
    std::string rest = path.substr(std::string(kVideosPrefix).size());
    const auto slash = rest.find('/');
    return slash == std::string::npos ? rest : rest.substr(0, slash);
}

std::string route_template(const std::string &path) {
    for (const auto &route : kRoutes)
        if (path == route.path) return route.path;
    if (path.rfind(kVideosPrefix, 0) == 0) {
        const std::string rest = path.substr(std::string(kVideosPrefix).size());
        const auto slash = rest.find('/');
        if (slash == std::string::npos && !rest.empty()) return "/v1/videos/{id}";
        if (slash != std::string::npos && slash > 0 && rest.substr(slash) == "/content") return "/v1/videos/{id}/content";
    }
    return "/v1/unmatched";
}

std::optional<nlohmann::json> read_request_object(api_context &context, server_request &request, server_response &response,
                                                  bool allow_form) {
    if (!(allow_form && is_form(request))) {
        nlohmann::json body;
        if (auto error = read_json_object(request, context.options.max_body_bytes, body, false)) {
            send_openai_error(response, *error);
            return std::nullopt;
        }
        return body;
    }
    std::string raw;
    if (auto error = read_body(request, context.options.max_body_bytes, raw)) {
        send_openai_error(response, *error);
        return std::nullopt;
    }
    Poco::Net::HTMLForm form;
    form.setFieldLimit(200);
    file_parts files;
    try {
        std::istringstream in(raw);
        form.load(request, in, files);
    } catch (const Poco::Exception &e) {
        send_openai_error(response, 400, "body: malformed multipart/form-data (" + e.displayText() + ")", "body");
        return std::nullopt;
    }
    if (!files.refused.empty()) {
        send_openai_error(response, 400, files.refused + ": this route takes no such file", files.refused);
        return std::nullopt;
    }
    nlohmann::json body = files.fields;
    for (const auto &[name, value] : form) body[name] = form_value(name, value);
    return body;
}

Poco::Net::HTTPRequestHandler *make_handler(api_context &context, const Poco::Net::HTTPServerRequest &request,
                                            const std::string &path) {
    if (!request_is_authorized(request, context.options.token, false))
        return error_handler({401, "Authorization: a valid bearer token is required", "Authorization"});
    const std::string tmpl = route_template(path);
    if (tmpl == "/v1/unmatched") return error_handler({404, "no OpenAI-style endpoint " + path.substr(0, 200), ""});
    if (tmpl.find("{id}") != std::string::npos && !jobs::valid_job_id(video_id_of(path)))
        return error_handler({404, "no video with that id", ""});
    std::string allow;
    for (const auto &route : kRoutes) {
        if (tmpl != route.path) continue;
        if (request.getMethod() == route.method) {
            if (is_state_changing(request.getMethod())) {
                if (!(route.form && is_form(request))) {
                    if (auto refusal = check_json_content_type(request)) return error_handler(*refusal);
                }
            }
            return new route_handler(write_openai_error, context, route.handler, route.path);
        }
        if (!allow.empty()) allow += ", ";
        allow += route.method;
    }
    return error_handler({405, "method " + request.getMethod() + " not allowed on " + tmpl + " (use " + allow + ")", ""},
                            allow);
}

} // namespace omnihost::openai
