#include "leftovers.h"

#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <sstream>

namespace omnihost::proxy {

namespace {

// Fields after the ")" of /proc/<pid>/stat (the command name may hold spaces and parentheses).
bool read_stat_fields(pid_t pid, std::string* comm, std::vector<std::string>* fields) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(f, stat)) return false;
    auto open = stat.find('(');
    auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) return false;
    if (comm) *comm = stat.substr(open + 1, close - open - 1);
    std::istringstream rest(stat.substr(close + 1));
    fields->assign(std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>());
    return fields->size() > 19;
}

}  // namespace

// The value of OMNIHOST_CHILD_OF in /proc/<pid>/environ ("" when absent or unreadable).
std::string process_owner_marker(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
    if (!f) return "";
    const std::string prefix = std::string(kOwnerEnvName) + "=";
    std::string entry;
    while (std::getline(f, entry, '\0'))
        if (entry.compare(0, prefix.size(), prefix) == 0) return entry.substr(prefix.size());
    return "";
}

namespace {

std::string marker_of(pid_t pid) { return process_owner_marker(pid); }

std::vector<pid_t> all_pids() {
    std::vector<pid_t> out;
    DIR* dir = ::opendir("/proc");
    if (!dir) return out;
    while (dirent* ent = ::readdir(dir)) {
        if (ent->d_name[0] < '1' || ent->d_name[0] > '9') continue;
        out.push_back(static_cast<pid_t>(std::strtol(ent->d_name, nullptr, 10)));
    }
    ::closedir(dir);
    return out;
}

}  // namespace

unsigned long long process_start_ticks(pid_t pid) {
    std::vector<std::string> f;
    if (!read_stat_fields(pid, nullptr, &f)) return 0;
    // f[0] is field 3 (state); the start time is field 22.
    return std::strtoull(f[19].c_str(), nullptr, 10);
}

bool process_group_of(pid_t pid, pid_t* pgrp, bool* zombie) {
    std::vector<std::string> f;
    if (!read_stat_fields(pid, nullptr, &f)) return false;
    if (zombie) *zombie = f[0] == "Z" || f[0] == "X";
    if (pgrp) *pgrp = static_cast<pid_t>(std::strtol(f[2].c_str(), nullptr, 10));
    return true;
}

const std::string& owner_marker() {
    static const std::string marker = std::to_string(::getpid()) + ":" + std::to_string(process_start_ticks(::getpid()));
    return marker;
}

bool owner_alive(const std::string& marker) {
    auto colon = marker.find(':');
    if (colon == std::string::npos) return false;
    pid_t pid = static_cast<pid_t>(std::strtol(marker.substr(0, colon).c_str(), nullptr, 10));
    if (pid <= 0) return false;
    const std::string ticks = marker.substr(colon + 1);
    return std::to_string(process_start_ticks(pid)) == ticks;
}

int pidfd_open_pid(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

bool pidfd_signal(int pidfd, int sig) {
    return ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0;
}

bool group_member(pid_t pid, pid_t pgid, const std::string& required_marker) {
    pid_t g = 0;
    bool zombie = false;
    if (!process_group_of(pid, &g, &zombie) || g != pgid || zombie) return false;
    return required_marker.empty() || process_owner_marker(pid) == required_marker;
}

int signal_group_via_pidfds(pid_t pgid, int sig, const std::string& required_marker) {
    if (pgid <= 1) return 0;
    int n = 0;
    for (pid_t pid : all_pids()) {
        if (!group_member(pid, pgid, required_marker)) continue;
        int fd = pidfd_open_pid(pid);
        if (fd < 0 && errno == ENOSYS) {  // kernel before 5.3: the group signal is the best left
            ::kill(-pgid, sig);
            return n + 1;
        }
        if (fd < 0) continue;
        // The pidfd pins the process: if it is still a member now, the pidfd is that member.
        if (group_member(pid, pgid, required_marker) && pidfd_signal(fd, sig)) ++n;
        ::close(fd);
    }
    return n;
}

std::vector<std::string> kill_orphaned_children() {
    std::vector<std::string> killed;
    const uid_t me = ::getuid();
    const std::string mine = owner_marker();
    for (pid_t pid : all_pids()) {
        if (pid == ::getpid()) continue;
        const std::string marker = marker_of(pid);  // unreadable for other users' processes
        if (marker.empty() || marker == mine || owner_alive(marker)) continue;
        int fd = pidfd_open_pid(pid);
        if (fd < 0) continue;
        // Re-read through the pinned process: the PID may have been reused since the scan.
        std::string comm;
        std::vector<std::string> f;
        const bool same = marker_of(pid) == marker && read_stat_fields(pid, &comm, &f) && f[0] != "Z";
        std::ifstream status("/proc/" + std::to_string(pid) + "/status");
        bool own_uid = false;
        for (std::string line; std::getline(status, line);)
            if (line.rfind("Uid:", 0) == 0) {
                std::istringstream u(line.substr(4));
                uid_t real = 0;
                u >> real;
                own_uid = real == me;
            }
        if (same && own_uid && pidfd_signal(fd, SIGKILL))
            killed.push_back("pid " + std::to_string(pid) + " (" + comm + ", owner " + marker + ")");
        ::close(fd);
    }
    return killed;
}

}  // namespace omnihost::proxy
