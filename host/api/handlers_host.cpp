// What the machine offers (features, venv check) and the settings every browser shares.
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <spdlog/spdlog.h>

#include "api/handlers.h"
#include "api/http_io.h"
#include "services/host_features.h"
#include "services/settings_store.h"

namespace omnihost {

void handle_features(api_context &context, server_request &, server_response &response) {
    send_json(response, 200, detect_features(*context.plugins, context.options.plugin_config_json));
}

void handle_check_venv(api_context &context, server_request &request, server_response &response) {
    nlohmann::json body;
    if (auto error = read_json_object(request, context.options.max_body_bytes, body, true)) {
        send_error(response, *error);
        return;
    }
    std::string venv_path;
    for (const auto &[key, value] : body.items()) {
        if (key != "venv_path") {
            send_error(response, {400, key + ": unknown field", key});
            return;
        }
        if (value.is_null()) continue;
        if (!value.is_string() || value.get_ref<const std::string &>().size() > 4096) {
            send_error(response, {400, "venv_path: must be a string of at most 4096 bytes", "venv_path"});
            return;
        }
        venv_path = value.get<std::string>();
    }
    // Like the playground: an answer about the venv is always 200; only a malformed body is 4xx.
    send_json(response, 200, check_venv(venv_path, context.options.plugin_config_json));
}

void handle_settings(api_context &context, server_request &request, server_response &response) {
    if (!context.settings) {
        send_error(response, {503, "settings are not available", ""});
        return;
    }
    if (request.getMethod() == "GET") {
        send_json(response, 200, context.settings->get());
        return;
    }
    nlohmann::json body;
    if (auto error = read_json_object(request, context.options.max_body_bytes, body, false)) {
        send_error(response, *error);
        return;
    }
    for (const char *secret : {"omni_remote_api_key", "hf_token"}) {
        if (body.contains(secret)) {
            send_error(response, {400, std::string(secret) + ": secrets are never stored by the host", secret});
            return;
        }
    }
    nlohmann::json merged;
    std::string write_error;
    if (auto error = context.settings->update(std::move(body), merged, write_error)) {
        send_error(response, {400, error->message, error->field});
        return;
    }
    if (!write_error.empty()) {
        spdlog::error("settings not saved: {}", write_error);
        send_error(response, {500, "settings not saved: " + write_error, ""});
        return;
    }
    send_json(response, 200, merged);
}

} // namespace omnihost
