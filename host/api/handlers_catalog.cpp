// Read-only catalogues (models, recipes, plugins) and the command preview.
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "api/handlers.h"
#include "api/http_io.h"
#include "api/start_planner.h"
#include "services/preview_service.h"

namespace omnihost {

void handle_models(api_context &context, server_request &, server_response &response) {
    send_json(response, 200, context.models);
}

void handle_recipes(api_context &context, server_request &, server_response &response) {
    send_json(response, 200, context.recipes.to_json());
}

void handle_plugins(api_context &context, server_request &, server_response &response) {
    send_json(response, 200, context.plugins->to_json());
}

void handle_command_preview(api_context &context, server_request &request, server_response &response) {
    nlohmann::json body;
    if (auto error = read_json_object(request, context.options.max_body_bytes, body, false)) {
        send_error(response, *error);
        return;
    }
    plan_outcome outcome = plan_start(context, std::move(body));
    if (!outcome.plan) {
        send_error(response, outcome.error);
        return;
    }
    // The plugin should already redact; the host redacts again so a slip never leaks a token.
    nlohmann::json preview = redact(context.preview->preview(*outcome.plan, std::chrono::seconds(5)),
                                    secret_values(outcome.plan->start_json));
    if (preview.contains("error")) {
        send_error(response, {502, preview["error"].is_string() ? preview["error"].get<std::string>()
                                                                 : preview["error"].dump(), ""});
        return;
    }
    send_json(response, 200, preview);
}

} // namespace omnihost
