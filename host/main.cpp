// omnihost entry point: parse options (exit 64 with a message on a bad one), then run the server.
#include <csignal>
#include <iostream>

#include "app/command_line.h"
#include "app/omnihost_app.h"

int main(int argc, char **argv) {
    // A peer that closes mid-write (a client gone, a child's pipe) must be an error, not a kill.
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string> args(argv + 1, argv + argc);
    omnihost::CommandLine command_line;
    try {
        command_line = omnihost::parse_command_line(args);
    } catch (const omnihost::OptionsError &e) {
        std::cerr << "omnihost: " << e.message << "\n(see --help)\n";
        return 64;
    }
    if (command_line.show_help) {
        std::cout << omnihost::usage_text(argv[0]);
        return 0;
    }
    omnihost::OmnihostApp app(command_line.options);
    std::vector<std::string> poco_args{argv[0]};
    return app.run(poco_args);
}
