#include "bench_host_process.h"

#include <csignal>
#include <cstdio>

#include <sys/wait.h>
#include <unistd.h>

namespace omnihost::bench {

host_process start_host(const std::string &binary, const std::vector<std::string> &args) {
    std::vector<std::string> argv_text = {binary, "--port", "0", "--log-level", "warn"};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char *> argv;
    for (auto &arg : argv_text) argv.push_back(arg.data());
    argv.push_back(nullptr);

    host_process host;
    int out_pipe[2];
    if (::pipe(out_pipe) != 0) return host;
    host.pid = ::fork();
    if (host.pid == 0) {
        ::dup2(out_pipe[1], STDOUT_FILENO);
        if (!std::freopen("/dev/null", "w", stderr)) ::_exit(126);
        ::close(out_pipe[0]);
        ::execv(binary.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    std::string line;
    char c;
    while (host.port == 0 && ::read(out_pipe[0], &c, 1) == 1) {
        if (c != '\n') {
            line += c;
            continue;
        }
        if (line.find("listening on http://") != std::string::npos) host.port = std::stoi(line.substr(line.rfind(':') + 1));
        line.clear();
    }
    ::close(out_pipe[0]);
    if (host.port == 0 && host.pid > 0) {
        int status = 0;
        ::waitpid(host.pid, &status, 0);
        host.pid = -1;
    }
    return host;
}

void stop_host(host_process &host) {
    if (host.pid <= 0) return;
    ::kill(host.pid, SIGTERM);
    int status = 0;
    ::waitpid(host.pid, &status, 0);
    host.pid = -1;
}

} // namespace omnihost::bench
