#include "child_process.h"

#include "child_env.h"
#include "leftovers.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

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
        if (dir.empty()) dir = std::string(1, '.');
        std::string candidate = dir + "/" + name;
        if (is_executable_file(candidate)) return candidate;
    }
    return "";
}

child_process::~child_process() {
    if (spawned()) terminate_group(std::chrono::seconds(2));
    if (pidfd_ >= 0) ::close(pidfd_);
}

namespace {

// The one thread every child is forked from (see the header: the parent-death signal is tied to
// the forking thread). It lives as long as this plugin module; ending it, at unload or exit,
// kills what it started, which is what a departing host wants anyway.
class spawner_thread {
public:
    static spawner_thread& instance() {
        static spawner_thread t;
        return t;
    }
    // Runs `fn` on the spawner thread and waits for it.
    void run(const std::function<void()>& fn) {
        std::unique_lock lock(mutex_);
        if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
        const unsigned long long ticket = ++submitted_;
        queue_.push_back(&fn);
        cv_.notify_all();
        cv_.wait(lock, [&] { return finished_ >= ticket; });
    }
    ~spawner_thread() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
            cv_.notify_all();
        }
        if (thread_.joinable()) thread_.join();
    }

private:
    void loop() {
        std::unique_lock lock(mutex_);
        for (;;) {
            cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;
            const std::function<void()>* fn = queue_.front();
            queue_.pop_front();
            lock.unlock();
            (*fn)();  // never throws: the fork step only makes system calls
            lock.lock();
            ++finished_;
            cv_.notify_all();
        }
    }
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<const std::function<void()>*> queue_;
    unsigned long long submitted_ = 0, finished_ = 0;
    bool stopping_ = false;
    std::thread thread_;
};

// Everything the forked child touches is prepared before fork(): after it, in a multithreaded
// parent, only async-signal-safe calls are allowed (no malloc, no locks).
struct fork_plan {
    const char* exe;
    char* const* argv;
    char* const* envp;
    int out_w, err_w, errno_w;
    pid_t parent;
};

[[noreturn]] void child_after_fork(const fork_plan& p) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != p.parent) ::_exit(127);  // the host died between fork and prctl
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
    // A host started with 0, 1 or 2 closed may have got its pipes there: move them above 2 first,
    // so the dup2s below cannot overwrite one with another.
    const int out_w = p.out_w < 3 ? ::fcntl(p.out_w, F_DUPFD, 3) : p.out_w;
    const int err_w = p.err_w < 3 ? ::fcntl(p.err_w, F_DUPFD, 3) : p.err_w;
    const int errno_w = p.errno_w < 3 ? ::fcntl(p.errno_w, F_DUPFD_CLOEXEC, 3) : p.errno_w;
    int in = ::open("/dev/null", O_RDONLY);
    if (in < 0 || out_w < 0 || err_w < 0 || errno_w < 0 || ::dup2(in, 0) < 0 || ::dup2(out_w, 1) < 0 ||
        ::dup2(err_w, 2) < 0)
        ::_exit(127);
    // Close every descriptor above 2 except the exec-error pipe (close-on-exec: gone after execve).
    const unsigned errfd = static_cast<unsigned>(errno_w);
    bool closed = (errfd <= 3 || ::syscall(SYS_close_range, 3u, errfd - 1, 0u) == 0) &&
                  ::syscall(SYS_close_range, errfd + 1, ~0u, 0u) == 0;
    if (!closed) {
        for (int fd = 3; fd < 65536; ++fd)
            if (fd != errno_w) ::close(fd);
    }
    ::execve(p.exe, p.argv, p.envp);
    int err = errno;
    ssize_t ignored = ::write(errno_w, &err, sizeof err);
    (void)ignored;
    ::_exit(127);
}

}  // namespace

void child_process::spawn(const process_spec& spec, line_fn on_line) {
    if (spawned()) throw std::runtime_error("process already spawned");
    if (spec.argv.empty()) throw std::runtime_error("empty argv");

    std::map<std::string, std::string> env =
        child_environment(current_environment(), spec.env_set, spec.env_unset, spec.env_inherit, spec.mark_owner);

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

    int out_pipe[2], err_pipe[2], errno_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    if (::pipe2(errno_pipe, O_CLOEXEC) != 0) {
        for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }

    fork_plan plan{exe.c_str(), argv.data(), envp.data(), out_pipe[1], err_pipe[1], errno_pipe[1], ::getpid()};
    pid_t pid = -1;
    int fork_errno = 0, pidfd = -1;
    std::function<void()> do_fork = [&] {
        pid = ::fork();
        if (pid == 0) child_after_fork(plan);
        if (pid < 0) {
            fork_errno = errno;
            return;
        }
        // Not reaped yet, so the PID cannot have been reused: this pidfd is our child.
        pidfd = pidfd_open_pid(pid);
    };
    spawner_thread::instance().run(do_fork);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    ::close(errno_pipe[1]);
    int exec_errno = 0;
    if (pid > 0) {
        ssize_t n;
        do {
            n = ::read(errno_pipe[0], &exec_errno, sizeof exec_errno);
        } while (n < 0 && errno == EINTR);
        if (n != static_cast<ssize_t>(sizeof exec_errno)) exec_errno = 0;  // EOF: execve succeeded
    }
    ::close(errno_pipe[0]);
    if (pid < 0 || exec_errno != 0) {
        if (pid > 0) {
            int status;
            ::waitpid(pid, &status, 0);
        }
        if (pidfd >= 0) ::close(pidfd);
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        throw std::runtime_error("cannot start '" + exe + "': " + std::strerror(pid < 0 ? fork_errno : exec_errno));
    }

    pid_ = pid;
    pidfd_ = pidfd;
    marker_ = spec.mark_owner ? owner_marker() : std::string();
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

void child_process::reader_loop(int fd, bool is_stderr) {
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
    // A line that never ends (a progress bar without newlines, a binary dump) is cut at
    // kMaxChildLineBytes and the rest of it, up to the next newline, is dropped.
    bool dropping = false;
    auto take = [&](const char* data, size_t n) {
        size_t i = 0;
        while (i < n) {
            const char* nl = static_cast<const char*>(std::memchr(data + i, '\n', n - i));
            const size_t end = nl ? static_cast<size_t>(nl - data) : n;
            if (!dropping) pending.append(data + i, end - i);
            if (nl) {
                if (!dropping) deliver(std::move(pending));
                pending.clear();
                dropping = false;
                i = end + 1;
            } else {
                i = n;
            }
            if (!dropping && pending.size() > kMaxChildLineBytes) {
                pending.resize(kMaxChildLineBytes);
                deliver(std::move(pending) + " [line truncated]");
                pending.clear();
                dropping = true;
            }
        }
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
        take(buf, static_cast<size_t>(n));
    }
    if (!pending.empty() && !dropping) deliver(pending);
    ::close(fd);
    std::lock_guard lock(mutex_);
    ++readers_done_;
    exit_cv_.notify_all();
}

bool child_process::wait_output_closed(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return exit_cv_.wait_for(lock, timeout, [this] { return readers_done_ >= 2; });
}

bool child_process::exited() const {
    std::lock_guard lock(mutex_);
    return exit_code_.has_value();
}

std::optional<int> child_process::exit_code() const {
    std::lock_guard lock(mutex_);
    return exit_code_;
}

std::string child_process::exit_description() const {
    auto code = exit_code();
    if (!code) return "is running";
    if (*code >= 0) return "exited with code " + std::to_string(*code);
    if (*code == -1) return "exited (status unknown)";
    return "was killed by signal " + std::to_string(-*code);
}

bool child_process::wait_exit(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return exit_cv_.wait_for(lock, timeout, [this] { return exit_code_.has_value(); });
}

std::vector<std::string> child_process::last_lines(size_t n) const {
    std::lock_guard lock(mutex_);
    size_t start = tail_.size() > n ? tail_.size() - n : 0;
    return {tail_.begin() + static_cast<long>(start), tail_.end()};
}

// While the leader is not reaped its PID, and so the group id, cannot be reused: every member is
// ours. Once reaped, an emptied group's id could be taken by a stranger that leads a new group, so
// members must then also carry our owner marker (runtime CLIs, unmarked, are never left alone).
const std::string& child_process::member_marker() const {
    static const std::string none;
    return exited() ? marker_ : none;
}

bool child_process::group_alive() const {
    if (pid_ <= 0) return false;
    const std::string& need = member_marker();
    DIR* dir = ::opendir("/proc");
    if (!dir) return false;
    bool alive = false;
    while (dirent* ent = ::readdir(dir)) {
        if (ent->d_name[0] < '1' || ent->d_name[0] > '9') continue;
        if (group_member(static_cast<pid_t>(std::strtol(ent->d_name, nullptr, 10)), pid_, need)) {
            alive = true;
            break;
        }
    }
    ::closedir(dir);
    return alive;
}

void child_process::signal_group(int sig) {
    // The leader through the pidfd taken at spawn; the other members each through their own.
    if (pidfd_ >= 0) pidfd_signal(pidfd_, sig);
    else if (!exited()) ::kill(pid_, sig);  // kernel without pidfds: not reaped yet, so still ours
    signal_group_via_pidfds(pid_, sig, member_marker());
}

void child_process::stop_readers() {
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

void child_process::release_after_exit() {
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

void child_process::terminate_group(std::chrono::milliseconds grace) {
    if (!spawned() || terminated_) return;
    terminated_ = true;
    if (group_alive()) signal_group(SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
        if (exited() && !group_alive()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!exited() || group_alive()) {
        signal_group(SIGKILL);
        wait_exit(std::chrono::seconds(5));
        auto kill_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (group_alive() && std::chrono::steady_clock::now() < kill_deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop_readers();
    if (waiter_.joinable()) waiter_.join();
}

}  // namespace omnihost::proxy
