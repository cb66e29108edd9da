// bench_host_process.h — the real omnihost for a benchmark: started on --port 0 with its stderr
// discarded, the port read from its "listening on http://HOST:PORT" line, stopped with SIGTERM.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

namespace omnihost::bench {

struct host_process {
    pid_t pid = -1;
    int port = 0; // 0: the host did not start (its pid is reaped already)
};

// Runs `binary --port 0 --log-level warn <args...>`.
host_process start_host(const std::string &binary, const std::vector<std::string> &args);

// SIGTERM and wait.
void stop_host(host_process &host);

} // namespace omnihost::bench
