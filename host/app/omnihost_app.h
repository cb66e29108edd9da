// omnihost_app.h — the Poco ServerApplication: reads its options (defineOptions/handleOption, see
// app/command_line.h), wires logging, the log bus, the plugin registry, recipes, the runtime slot
// and the HTTP server; waits for SIGINT/SIGTERM; shuts down in the order that lets every thread
// finish (viewers, server, slot, plugins).
#pragma once

#include <Poco/Util/ServerApplication.h>

#include "app/command_line.h"
#include "config/host_options.h"

namespace omnihost {

class omnihost_app : public Poco::Util::ServerApplication {
public:
    // Options from argv, then the server until SIGINT/SIGTERM. A bad option: the message on stderr
    // and EXIT_USAGE (64); --help: the option list on stdout and EXIT_OK.
    int run_from_command_line(int argc, char **argv);

protected:
    void defineOptions(Poco::Util::OptionSet &options) override;
    void handleOption(const std::string &name, const std::string &value) override;
    int main(const std::vector<std::string> &args) override;

private:
    int serve();

    command_line command_line_;
    host_options options_;
};

} // namespace omnihost
