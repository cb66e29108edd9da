// Process identity that survives PID reuse, and the clean-up of what a crashed host left behind.
//
// Every child the proxies start carries OMNIHOST_CHILD_OF=<host pid>:<host start time> in its
// environment, which its own children (vLLM engine cores, multiprocessing workers) inherit. A
// host that dies by SIGKILL cannot stop them; the direct child dies with it through its
// parent-death signal, but grandchildren may survive. The next host to create a proxy plugin scans
// /proc for processes of this user whose marker names an owner that no longer exists (same pid,
// same start time) and kills them through pidfds. Nothing that belongs to a live host is touched.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace omnihost::proxy {

inline constexpr const char* kOwnerEnvName = "OMNIHOST_CHILD_OF";

// Start time of `pid` in clock ticks since boot (/proc/<pid>/stat field 22); 0 when gone.
unsigned long long process_start_ticks(pid_t pid);
// Process group of `pid` and whether it is a zombie; false when gone.
bool process_group_of(pid_t pid, pid_t* pgrp, bool* zombie);

// "<pid>:<start ticks>" of this process: the marker value given to children.
const std::string& owner_marker();
// True while the process named by a marker value exists (same pid and start time).
bool owner_alive(const std::string& marker);

// pidfd wrappers (raw syscalls, so no libc version matters). -1 / false with errno on failure.
int pidfd_open_pid(pid_t pid);
bool pidfd_signal(int pidfd, int sig);

// The OMNIHOST_CHILD_OF value in the environment `pid` started with ("" when absent/unreadable).
std::string process_owner_marker(pid_t pid);

// True when `pid` is a live member of group `pgid` and, if `required_marker` is given, carries it.
bool group_member(pid_t pid, pid_t pgid, const std::string& required_marker);

// Signals every live process of group `pgid` through a pidfd each, re-checking the group after
// opening so that a PID reused in between is never hit. With `required_marker`, only processes
// carrying that owner marker count (a group id reused by a stranger after ours emptied is not
// ours). Returns how many were signalled.
int signal_group_via_pidfds(pid_t pgid, int sig, const std::string& required_marker = "");

// Kills (SIGKILL via pidfd) every process of this user whose OMNIHOST_CHILD_OF marker names a
// dead owner. Returns their descriptions ("pid 123 (vllm)") for the log. Safe to call often;
// proxy plugins call it once per process, at their first create().
std::vector<std::string> kill_orphaned_children();

}  // namespace omnihost::proxy
