// Parsing and validating a safetensors header from bytes, with no libtorch and no file access:
// the part of loading a checkpoint that reads untrusted input, usable on its own by tests and
// fuzzers (give it a whole file's bytes).
//
// Every size is checked for overflow before use: shape products, dtype size x element count,
// data offsets against the data section, the header length against the file size and a cap.
#pragma once

#include "core/model_error.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace omnihost::models {

// The reference implementation's limit on the JSON header.
inline constexpr uint64_t safetensors_max_header_bytes = 100ull * 1024 * 1024;
// More dimensions than any real tensor has; keeps a crafted shape list small.
inline constexpr size_t safetensors_max_rank = 16;

struct safetensors_tensor_info {
    std::string name;
    std::string dtype;         // "F32", "BF16", ... (one of the supported names)
    size_t element_size = 0;   // bytes per element
    std::vector<int64_t> shape;  // every dim <= INT64_MAX; the product of max(dim, 1) fits int64
    uint64_t numel = 0;
    uint64_t begin = 0, end = 0;  // relative to the data section; begin <= end <= data_size
};

struct safetensors_header_info {
    uint64_t header_length = 0;  // the JSON text's length
    uint64_t data_start = 0;     // 8 + header_length: absolute offset of the data section
    uint64_t data_size = 0;      // file size - data_start
    std::vector<safetensors_tensor_info> tensors;  // in header order, "__metadata__" excluded
};

// `file_bytes`: the whole file (the 8-byte little-endian header length, the JSON header, the data).
// `origin` names the file in errors. Throws model_error("<origin>: ...") naming the tensor and the
// field for anything malformed, implausible or out of range; never reads outside `file_bytes`.
safetensors_header_info parse_safetensors_header(std::string_view file_bytes, const std::string &origin);

// Element size of a supported dtype name (F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL), 0 otherwise.
size_t safetensors_dtype_size(const std::string &dtype);

// Checks a shard file name taken from a *.safetensors.index.json: a plain file name in the index's
// folder (no path separators, no "..", not hidden, no control characters). Throws model_error
// naming `origin` and the tensor `for_tensor`.
void check_shard_name(const std::string &shard, const std::string &for_tensor, const std::string &origin);

}  // namespace omnihost::models
