#include "core/safetensors_header.h"

#include <common/json_limits.h>

#include <limits>

namespace omnihost::models {
namespace {

struct dtype_size {
    const char *name;
    size_t size;
};
constexpr dtype_size dtype_sizes[] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
    {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1},
};

// Quotes a name taken from the file for an error message: bounded, control characters escaped.
std::string printable(const std::string &s) {
    std::string out = "'";
    for (size_t i = 0; i < s.size() && i < 120; ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (s.size() > 120) out += "...";
    return out + "'";
}

}  // namespace

size_t safetensors_dtype_size(const std::string &dtype) {
    for (const auto &d : dtype_sizes)
        if (dtype == d.name) return d.size;
    return 0;
}

safetensors_header_info parse_safetensors_header(std::string_view bytes, const std::string &origin) {
    auto fail = [&](const std::string &msg) -> void { throw model_error(origin + ": " + msg); };
    const uint64_t file_size = bytes.size();
    if (file_size < 8)
        fail("truncated: " + std::to_string(file_size) + " bytes, smaller than the 8-byte header length");
    safetensors_header_info info;
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[i]);
    if (header_len > safetensors_max_header_bytes)
        fail("corrupt header: header length " + std::to_string(header_len) + " is implausible (limit " +
             std::to_string(safetensors_max_header_bytes) + ")");
    // Compared as file_size - 8 (no overflow: file_size >= 8 here) rather than 8 + header_len.
    if (header_len > file_size - 8)
        fail("truncated or corrupt header: header length " + std::to_string(header_len) + " exceeds the file size " +
             std::to_string(file_size));
    info.header_length = header_len;
    info.data_start = 8 + header_len;
    info.data_size = file_size - info.data_start;

    nlohmann::json header;
    try {
        // Real headers are three levels deep; the default depth limit still leaves room.
        header = omnihost::parse_json_bounded(bytes.substr(8, static_cast<size_t>(header_len)),
                                              omnihost::json_limits{omnihost::json_default_max_depth,
                                                                    safetensors_max_header_bytes});
    } catch (const std::exception &e) {
        fail(std::string("corrupt header (invalid JSON): ") + e.what());
    }
    if (!header.is_object()) fail("corrupt header: not a JSON object");

    constexpr uint64_t int64_max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    for (const auto &[name, spec] : header.items()) {
        if (name == "__metadata__") continue;
        const std::string where = "tensor " + printable(name) + ": ";
        if (!spec.is_object() || !spec.contains("dtype") || !spec.contains("shape") || !spec.contains("data_offsets"))
            fail("corrupt header: " + where + "needs dtype, shape and data_offsets");
        const auto &jd = spec["dtype"], &js = spec["shape"], &jo = spec["data_offsets"];
        if (!jd.is_string()) fail("corrupt header: " + where + "dtype is not a string");
        safetensors_tensor_info t;
        t.name = name;
        t.dtype = jd.get<std::string>();
        t.element_size = safetensors_dtype_size(t.dtype);
        if (t.element_size == 0)
            fail(where + "unsupported dtype " + printable(t.dtype) +
                 " (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
        if (!js.is_array()) fail("corrupt header: " + where + "shape is not a list");
        if (js.size() > safetensors_max_rank)
            fail("corrupt header: " + where + "shape has " + std::to_string(js.size()) + " dimensions (limit " +
                 std::to_string(safetensors_max_rank) + ")");
        // numel: the element count. extent: the product of max(dim, 1), which bounds every stride
        // libtorch computes for this shape, so a zero-sized tensor with huge other dims is refused too.
        uint64_t numel = 1, extent = 1;
        for (const auto &d : js) {
            if (!d.is_number_unsigned()) fail("corrupt header: " + where + "shape holds a non-size value");
            const uint64_t dim = d.get<uint64_t>();
            if (dim > int64_max) fail("corrupt header: " + where + "shape dimension " + std::to_string(dim) + " is too large");
            const uint64_t as_extent = dim == 0 ? 1 : dim;
            if (__builtin_mul_overflow(extent, as_extent, &extent) || extent > int64_max)
                fail("corrupt header: " + where + "shape " + js.dump() + " overflows a 64-bit element count");
            numel = numel == 0 ? 0 : (dim == 0 ? 0 : numel * dim);  // <= extent, cannot overflow
            t.shape.push_back(static_cast<int64_t>(dim));
        }
        t.numel = numel;
        uint64_t need = 0;
        if (__builtin_mul_overflow(numel, static_cast<uint64_t>(t.element_size), &need))
            fail("corrupt header: " + where + "shape " + js.dump() + " x " + t.dtype + " overflows a 64-bit byte count");
        if (!jo.is_array() || jo.size() != 2 || !jo[0].is_number_unsigned() || !jo[1].is_number_unsigned())
            fail("corrupt header: " + where + "data_offsets must be [begin, end]");
        t.begin = jo[0].get<uint64_t>();
        t.end = jo[1].get<uint64_t>();
        if (t.begin > t.end || t.end > info.data_size)
            fail(where + "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "] outside the " +
                 std::to_string(info.data_size) + "-byte data section (truncated file or bad offsets)");
        if (t.end - t.begin != need)
            fail("corrupt header: " + where + "data_offsets span " + std::to_string(t.end - t.begin) +
                 " bytes but shape and dtype need " + std::to_string(need));
        info.tensors.push_back(std::move(t));
    }
    return info;
}

void check_shard_name(const std::string &shard, const std::string &for_tensor, const std::string &origin) {
    auto fail = [&](const std::string &why) {
        throw model_error(origin + ": weight_map entry " + printable(for_tensor) + " names shard " + printable(shard) +
                          ", " + why);
    };
    if (shard.empty()) fail("an empty file name");
    if (shard.size() > 255) fail("a file name longer than 255 bytes");
    if (shard.find('/') != std::string::npos || shard.find('\\') != std::string::npos)
        fail("which has a path separator: shards must lie beside the index file");
    if (shard.find("..") != std::string::npos) fail("which contains '..'");
    if (shard[0] == '.') fail("a hidden file name");
    for (const char c : shard)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) fail("which has a control character");
}

}  // namespace omnihost::models
