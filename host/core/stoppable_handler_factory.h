// stoppable_handler_factory.h — the one thing the API router needs of the HTTP server: a handler
// factory that can tell open connections the server stopped. Here, below both api/ and app/, so the
// router (api/) does not include the server (app/).
#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>

namespace omnihost {

// Poco keeps the serverStopped event protected for its own HTTPServer; this exposes it.
class stoppable_handler_factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    void notify_server_stopped(bool abort_current) { serverStopped.notify(this, abort_current); }
};

} // namespace omnihost
