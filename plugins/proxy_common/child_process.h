// A child process started from an argv (never a shell) in its own process group, with stdout and
// stderr read line by line on two threads. Stopping signals the whole group, so workers the child
// spawned (vLLM engine cores, grandchildren) never outlive it.
//
// What a child gets, and why:
// - an allow-listed environment (child_env.h): never OMNIHOST_TOKEN, plus the owner marker that
//   lets the next host clean up after a crash (leftovers.h);
// - no descriptor above 2 (close_range in the child): no listening socket, client connection or
//   file of the host leaks into vLLM;
// - PR_SET_PDEATHSIG(SIGKILL): the child dies with the host even when the host is SIGKILLed. The
//   signal fires when the *thread* that forked exits, so every fork happens on one long-lived
//   spawner thread owned by this module (not on a job's thread, which may end any time);
// - signals go through pidfds (the leader's from spawn, the group members' opened and re-checked
//   one by one), so a PID reused after a process ended is never signalled.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace omnihost::proxy {

struct process_spec {
    std::vector<std::string> argv;               // argv[0] is a path or a name looked up on PATH
    std::map<std::string, std::string> env_set;  // added to / overriding the inherited environment
    std::vector<std::string> env_unset;
    std::vector<std::string> env_inherit;        // extra host variables allowed through (operator's)
    // Give the child the owner marker (leftovers.h), so what it leaves after a host crash is
    // killed at the next start. False for container runtime CLIs: a daemon they start (rootless
    // podman's pause process, conmon) must outlive them and must not be taken for a leftover.
    bool mark_owner = true;
};

// Output lines longer than this reach the log truncated, with a marker.
inline constexpr size_t kMaxChildLineBytes = 16 * 1024;

// Resolves `name` like execvp would (PATH of `path_env`); returns "" when not found.
// A name containing '/' is returned as is if it is executable.
std::string find_executable(const std::string& name, const std::string& path_env);

class child_process {
public:
    using line_fn = std::function<void(const std::string& line, bool from_stderr)>;

    child_process() = default;
    ~child_process();  // terminates the group (short grace) if still running
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    // Throws std::runtime_error when the executable is missing or the spawn fails.
    void spawn(const process_spec& spec, line_fn on_line);

    pid_t pid() const { return pid_; }
    bool spawned() const { return pid_ > 0; }
    bool exited() const;
    // Exit code (>= 0), or -signal when killed by a signal; empty while running.
    std::optional<int> exit_code() const;
    // "exited with code 3" / "was killed by signal 9"
    std::string exit_description() const;
    // Waits for the leader to exit; true if it did within `timeout`.
    bool wait_exit(std::chrono::milliseconds timeout) const;
    // Waits until both output pipes reached end of file (every writer is gone), so the last lines
    // of an exited child are all read; true if they did within `timeout`.
    bool wait_output_closed(std::chrono::milliseconds timeout) const;
    // The last `n` output lines (stdout and stderr interleaved in arrival order).
    std::vector<std::string> last_lines(size_t n) const;

    // SIGTERM to the group, up to `grace` for the leader and every member to end, then SIGKILL to
    // the group; joins the reader threads. Idempotent.
    void terminate_group(std::chrono::milliseconds grace);

    // For a short-lived command whose leader already exited: collect its output and threads
    // without signalling the group (a daemon it started, such as conmon, may still be in it).
    void release_after_exit();

    // True while any non-zombie process of the group exists (/proc scan).
    bool group_alive() const;

private:
    void reader_loop(int fd, bool is_stderr);
    void signal_group(int sig);
    const std::string& member_marker() const;
    void stop_readers();

    pid_t pid_ = -1;
    int pidfd_ = -1;
    std::string marker_;  // the owner marker the child got ("" for unmarked runtime CLIs)
    line_fn on_line_;
    std::thread waiter_, out_reader_, err_reader_;
    mutable std::mutex mutex_;
    mutable std::condition_variable exit_cv_;
    std::optional<int> exit_code_;
    std::deque<std::string> tail_;
    bool stop_reading_ = false;
    int readers_done_ = 0;
    bool terminated_ = false;
};

}  // namespace omnihost::proxy
