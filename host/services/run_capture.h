// run_capture.h — runs one operator-approved program with arguments (no shell), captures its
// stdout+stderr up to a bound, and kills it at a deadline. For short probes (a venv's python).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace omnihost {

struct capture_result {
    bool started = false;   // false: the program could not be executed (error says why)
    bool timed_out = false; // killed at the deadline
    int exit_code = -1;     // the exit status when it exited normally, else -1
    std::string output;     // stdout and stderr together, at most the bound
    std::string error;
};

// argv[0] is an absolute path. The child gets only `env`, stdin from /dev/null and no descriptor
// of the host beyond its own pipe.
capture_result run_capture(const std::vector<std::string> &argv, const std::map<std::string, std::string> &env,
                          std::chrono::milliseconds deadline, size_t max_output = 1 << 20);

} // namespace omnihost
