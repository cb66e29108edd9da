// omnihost_app.h — the Poco ServerApplication: wires options, logging, the log bus, the plugin
// registry, recipes, the runtime slot and the HTTP server; waits for SIGINT/SIGTERM; shuts down
// in the order that lets every thread finish (viewers, server, slot, plugins).
#pragma once

#include <Poco/Util/ServerApplication.h>

#include "config/host_options.h"

namespace omnihost {

class OmnihostApp : public Poco::Util::ServerApplication {
public:
    explicit OmnihostApp(HostOptions options) : options_(std::move(options)) {}

protected:
    int main(const std::vector<std::string> &args) override;

private:
    HostOptions options_;
};

} // namespace omnihost
