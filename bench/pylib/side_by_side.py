"""What the diffusers sides of the side-by-side benches share (bench/wan_side_by_side and
bench/stable_audio): process figures read the way the omnihost benches read them (RSS and its
high-water mark from /proc/self/status, user + system CPU seconds), the load average, the thread
count and the dtype names. Prints nothing itself: each driver keeps its own output lines, which
the scripts/bench_*_side_by_side.sh scripts parse.

A driver in bench/<name>/ puts this folder on sys.path from its own location,
  sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
so it imports however it is started (the scripts run it by path from the repository root).
"""
import resource


def status_mib(key):
    """A /proc/self/status figure in MiB (VmRSS, VmHWM, ...); -1 when the kernel has no such line."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return float(line.split()[1]) / 1024.0
    return -1.0


def cpu_seconds():
    """User + system CPU seconds of this process so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def load_average(fields=1):
    """The first `fields` load averages (1, 5, 15 min) as /proc/loadavg writes them."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:fields])


def set_threads(torch, threads, otherwise=None):
    """torch's intra-op threads: `threads` when > 0, else `otherwise` when given, else torch's default."""
    n = threads if threads > 0 else otherwise
    if n:
        torch.set_num_threads(n)


def torch_dtype(torch, name):
    """The torch dtype of a --dtype name (fp32 or bf16)."""
    return {"fp32": torch.float32, "bf16": torch.bfloat16}[name]
