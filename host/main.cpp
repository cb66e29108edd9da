// omnihost entry point: the application reads its options (exit 64 with a message on a bad one),
// then runs the server.
#include <csignal>

#include "app/omnihost_app.h"

int main(int argc, char **argv) {
    // A peer that closes mid-write (a client gone, a child's pipe) must be an error, not a kill.
    std::signal(SIGPIPE, SIG_IGN);
    omnihost::omnihost_app app;
    return app.run_from_command_line(argc, argv);
}
