// Peak memory of the device a model computes on, for the load log, a plugin's health answer and
// result metadata. On CUDA: the caching allocator's peak of allocated bytes (where the libtorch
// has device allocator stats); on the CPU: the process's peak resident set (VmHWM), which is what
// runs out there. No libtorch in this header.
#pragma once

#include <cstdint>
#include <string>

namespace omnihost::models {

struct memory_reading {
    std::string device;          // as given, e.g. "cpu", "cuda:0"
    std::string measure;         // what peak_bytes is, e.g. "process peak RSS"
    int64_t peak_bytes = -1;     // since the last reset_memory_peak() that worked; -1: not measurable
    int64_t current_bytes = -1;  // now; -1: not measurable
};

// Starts a new peak window on `device` ("cpu", "cuda", "cuda:N"). On the CPU this resets the
// process's VmHWM (/proc/self/clear_refs); where that is refused the peak counts from process
// start and read_memory() says so in `measure`.
void reset_memory_peak(const std::string &device);

memory_reading read_memory(const std::string &device);

// After a failed job: hands memory the job freed back (the CUDA caching allocator's unused blocks;
// on the CPU glibc's free heap, which tune_allocator() otherwise keeps for speed).
void release_cached_memory(const std::string &device);

// "1.25 GiB", "640 MiB", "12 KiB"; "unknown" for a negative count.
std::string format_bytes(int64_t bytes);

}  // namespace omnihost::models
