// router.h — the HTTP request handler factory: the browser boundary (Host, Origin, Content-Type),
// auth, the route table, 404/405, the WebSocket and static files. Every response carries the
// security headers; every handler's exception becomes a JSON 500; nothing reaches Poco's default.
#pragma once

#include "api/api_context.h"
#include "core/stoppable_handler_factory.h"
#include "log_bus/ws_logs_handler.h"

namespace omnihost {

class api_router : public stoppable_handler_factory {
public:
    explicit api_router(api_context &context);
    Poco::Net::HTTPRequestHandler *createRequestHandler(const Poco::Net::HTTPServerRequest &request) override;

    int ws_clients() const { return ws_options_.clients->load(); }

private:
    Poco::Net::HTTPRequestHandler *route(const Poco::Net::HTTPServerRequest &request);

    api_context &context_;
    log_bus::ws_options ws_options_;
};

} // namespace omnihost
