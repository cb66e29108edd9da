#include "runtime_cli.h"

#include "child_process.h"

#include <mutex>

namespace omnihost::proxy {

std::string cli_result::trimmed_out() const {
    std::string s = out;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    while (!s.empty() && (s.front() == '\n' || s.front() == ' ')) s.erase(0, 1);
    return s;
}

cli_result run_cli(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                  std::chrono::milliseconds timeout, const std::function<void(const std::string&)>& on_line,
                  const std::function<bool()>& cancelled) {
    cli_result r;
    std::mutex m;
    child_process p;
    process_spec spec{argv, env, {}};
    spec.mark_owner = false;  // see process_spec::mark_owner
    p.spawn(spec, [&](const std::string& line, bool is_err) {
        {
            // Kept whole up to a bound: enough for ids, inspect answers and error text; a runtime
            // that prints without end (pull progress) cannot grow it further.
            std::lock_guard lock(m);
            std::string& dst = is_err ? r.err : r.out;
            if (dst.size() < kMaxCliOutput) dst += line + "\n";
        }
        if (on_line) on_line(line);
    });
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool done = false;
    while (!(done = p.wait_exit(std::chrono::milliseconds(100)))) {
        if (std::chrono::steady_clock::now() >= deadline || (cancelled && cancelled())) break;
    }
    if (done) {
        // `run -d` leaves conmon behind; it must not be signalled, only our pipes collected.
        p.release_after_exit();
        r.rc = *p.exit_code();
    } else {
        p.terminate_group(std::chrono::seconds(2));
        r.timed_out = true;
    }
    return r;
}

}  // namespace omnihost::proxy
