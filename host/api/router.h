// router.h — the HTTP request handler factory: auth, the route table, 404/405, the WebSocket and
// static files. Every handler's exception becomes a JSON 500; nothing reaches Poco's default.
#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include "api/api_context.h"

namespace omnihost {

class ApiRouter : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit ApiRouter(ApiContext &context) : context_(context) {}
    Poco::Net::HTTPRequestHandler *createRequestHandler(const Poco::Net::HTTPServerRequest &request) override;

private:
    ApiContext &context_;
};

} // namespace omnihost
