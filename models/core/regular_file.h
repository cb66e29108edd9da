// Opening files that come from a model folder, which is untrusted input: only regular files are
// opened. A FIFO or a device named like a weight or config file would otherwise block open()/read()
// forever (a FIFO with no writer) or stream without end (/dev/zero), wedging the loading thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace omnihost::models {

// Opens `file` read-only and returns the descriptor (the caller closes it). The file is checked
// with stat() first, opened with O_NONBLOCK (so a file swapped for a FIFO after the check cannot
// block open()), and checked again with fstat() on the opened descriptor. Symlinks are followed
// (Hugging Face cache snapshots are symlinks into blobs/); the target must be a regular file.
// `what` describes the file in errors ("safetensors file", "config file", ...).
// Throws model_error naming the file otherwise. *size_out receives the file size when given.
int open_regular_file(const std::filesystem::path &file, const std::string &what,
                      uint64_t *size_out = nullptr);

// Reads a whole regular file of at most `max_bytes` (model_error naming the file when larger,
// absent, or not a regular file).
std::string read_regular_file(const std::filesystem::path &file, const std::string &what,
                              uint64_t max_bytes);

// Largest JSON side file (config.json, model_index.json, *.safetensors.index.json,
// scheduler_config.json) read from a model folder. Real ones are a few KB to a few MB.
inline constexpr uint64_t max_model_json_bytes = 64ull << 20;

}  // namespace omnihost::models
