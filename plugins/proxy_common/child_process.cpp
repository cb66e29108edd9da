#include "child_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace omnihost::proxy {

namespace {

constexpr size_t kTailLines = 200;

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string find_executable(const std::string& name, const std::string& path_env) {
    if (name.empty()) return "";
    if (name.find('/') != std::string::npos) return is_executable_file(name) ? name : "";
    std::stringstream ss(path_env);
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        if (dir.empty()) dir = ".";
        std::string candidate = dir + "/" + name;
        if (is_executable_file(candidate)) return candidate;
    }
    return "";
}

ChildProcess::~ChildProcess() {
    if (spawned()) terminate_group(std::chrono::seconds(2));
}

void ChildProcess::spawn(const ProcessSpec& spec, LineFn on_line) {
    if (spawned()) throw std::runtime_error("process already spawned");
    if (spec.argv.empty()) throw std::runtime_error("empty argv");

    // The child's environment: inherited, then unset, then set.
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& k : spec.env_unset) env.erase(k);
    for (const auto& [k, v] : spec.env_set) env[k] = v;

    const std::string path_env = env.count("PATH") ? env["PATH"] : "/usr/local/bin:/usr/bin:/bin";
    const std::string exe = find_executable(spec.argv[0], path_env);
    if (exe.empty())
        throw std::runtime_error("executable not found: '" + spec.argv[0] + "'" +
                                 (spec.argv[0].find('/') == std::string::npos ? " (searched PATH=" + path_env + ")"
                                                                              : ""));

    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, argv;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = spec.argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Own process group (pgid = pid) so stop() can signal every descendant at once; default signal
    // dispositions and an empty mask whatever the host process set up.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t empty, defaults;
    sigemptyset(&empty);
    posix_spawnattr_setsigmask(&attr, &empty);
    sigemptyset(&defaults);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM})
        sigaddset(&defaults, s);
    posix_spawnattr_setsigdefault(&attr, &defaults);

    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, exe.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (rc != 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        throw std::runtime_error("cannot start '" + exe + "': " + std::strerror(rc));
    }

    pid_ = pid;
    on_line_ = std::move(on_line);
    out_reader_ = std::thread([this, fd = out_pipe[0]] { reader_loop(fd, false); });
    err_reader_ = std::thread([this, fd = err_pipe[0]] { reader_loop(fd, true); });
    waiter_ = std::thread([this] {
        int status = 0;
        pid_t r;
        do {
            r = ::waitpid(pid_, &status, 0);
        } while (r < 0 && errno == EINTR);
        int code = -1;
        if (r == pid_) {
            if (WIFEXITED(status)) code = WEXITSTATUS(status);
            else if (WIFSIGNALED(status)) code = -WTERMSIG(status);
        }
        std::lock_guard lock(mutex_);
        exit_code_ = code;
        exit_cv_.notify_all();
    });
}

void ChildProcess::reader_loop(int fd, bool is_stderr) {
    std::string pending;
    char buf[4096];
    auto deliver = [&](std::string line) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        {
            std::lock_guard lock(mutex_);
            tail_.push_back(line);
            if (tail_.size() > kTailLines) tail_.pop_front();
        }
        if (on_line_) on_line_(line, is_stderr);
    };
    for (;;) {
        bool stopping;
        {
            std::lock_guard lock(mutex_);
            stopping = stop_reading_;
        }
        // Once asked to stop, only drain what is already buffered, then leave.
        pollfd p{fd, POLLIN, 0};
        int pr = ::poll(&p, 1, stopping ? 0 : 200);
        if (pr < 0 && errno == EINTR) continue;
        if (pr == 0) {
            if (stopping) break;
            continue;
        }
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        pending.append(buf, static_cast<size_t>(n));
        size_t pos;
        while ((pos = pending.find('\n')) != std::string::npos) {
            deliver(pending.substr(0, pos));
            pending.erase(0, pos + 1);
        }
    }
    if (!pending.empty()) deliver(pending);
    ::close(fd);
}

bool ChildProcess::exited() const {
    std::lock_guard lock(mutex_);
    return exit_code_.has_value();
}

std::optional<int> ChildProcess::exit_code() const {
    std::lock_guard lock(mutex_);
    return exit_code_;
}

std::string ChildProcess::exit_description() const {
    auto code = exit_code();
    if (!code) return "is running";
    if (*code >= 0) return "exited with code " + std::to_string(*code);
    if (*code == -1) return "exited (status unknown)";
    return "was killed by signal " + std::to_string(-*code);
}

bool ChildProcess::wait_exit(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return exit_cv_.wait_for(lock, timeout, [this] { return exit_code_.has_value(); });
}

std::vector<std::string> ChildProcess::last_lines(size_t n) const {
    std::lock_guard lock(mutex_);
    size_t start = tail_.size() > n ? tail_.size() - n : 0;
    return {tail_.begin() + static_cast<long>(start), tail_.end()};
}

bool ChildProcess::group_alive() const {
    if (pid_ <= 0) return false;
    DIR* dir = ::opendir("/proc");
    if (!dir) return ::kill(-pid_, 0) == 0;
    bool alive = false;
    while (dirent* ent = ::readdir(dir)) {
        if (ent->d_name[0] < '0' || ent->d_name[0] > '9') continue;
        std::ifstream f(std::string("/proc/") + ent->d_name + "/stat");
        std::string stat;
        if (!std::getline(f, stat)) continue;
        auto close_paren = stat.rfind(')');
        if (close_paren == std::string::npos) continue;
        std::istringstream rest(stat.substr(close_paren + 2));
        char state = 0;
        long ppid = 0, pgrp = 0;
        rest >> state >> ppid >> pgrp;
        if (pgrp == pid_ && state != 'Z' && state != 'X') {
            alive = true;
            break;
        }
    }
    ::closedir(dir);
    return alive;
}

void ChildProcess::stop_readers() {
    // Readers end at EOF once every writer (the whole group) is gone; the flag covers a descendant
    // that escaped the group and still holds the pipe.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (std::chrono::steady_clock::now() < deadline && group_alive())
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    {
        std::lock_guard lock(mutex_);
        stop_reading_ = true;
    }
    if (out_reader_.joinable()) out_reader_.join();
    if (err_reader_.joinable()) err_reader_.join();
}

void ChildProcess::release_after_exit() {
    if (!spawned() || terminated_ || !exited()) return;
    terminated_ = true;
    {
        std::lock_guard lock(mutex_);
        stop_reading_ = true;
    }
    if (out_reader_.joinable()) out_reader_.join();
    if (err_reader_.joinable()) err_reader_.join();
    if (waiter_.joinable()) waiter_.join();
}

void ChildProcess::terminate_group(std::chrono::milliseconds grace) {
    if (!spawned() || terminated_) return;
    terminated_ = true;
    if (group_alive()) ::kill(-pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
        if (exited() && !group_alive()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!exited() || group_alive()) {
        ::kill(-pid_, SIGKILL);
        wait_exit(std::chrono::seconds(5));
        auto kill_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (group_alive() && std::chrono::steady_clock::now() < kill_deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop_readers();
    if (waiter_.joinable()) waiter_.join();
}

}  // namespace omnihost::proxy
