// Runs one container-runtime command (podman/docker CLI) to completion with a deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace omnihost::proxy {

// stdout / stderr kept per command (lines still reach on_line beyond it).
inline constexpr size_t kMaxCliOutput = 1u << 20;

struct cli_result {
    int rc = -1;          // exit code; -1 when it timed out or could not start
    bool timed_out = false;
    std::string out, err;  // whole stdout / stderr
    std::string trimmed_out() const;
};

// Never throws for a failing command (rc says it); throws std::runtime_error when the runtime
// cannot be started at all.
cli_result run_cli(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                  std::chrono::milliseconds timeout,
                  const std::function<void(const std::string& line)>& on_line = {},
                  const std::function<bool()>& cancelled = {});

}  // namespace omnihost::proxy
