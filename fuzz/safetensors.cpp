// A .safetensors file (8-byte header length, JSON header, data) through the parser every
// checkpoint load goes through, parse_safetensors_header (no libtorch: clang 14 cannot compile
// libtorch's headers in C++20 mode, so the mmap/tensor layer above it is not linked here), and
// the shard-name check of *.safetensors.index.json files.
// Properties: a bad file is a model_error naming the file, nothing else escapes; every tensor lies
// inside the data section, its element count is its shape's product and its byte span is that
// count times its dtype's size, all without overflow; an accepted shard name cannot leave the
// index's folder.
#include "fuzz_check.h"

#include "core/safetensors_header.h"

namespace {

using namespace omnihost::models;
using u128 = unsigned __int128;

void check_header(std::string_view bytes) {
    safetensors_header_info info;
    try {
        info = parse_safetensors_header(bytes, "fuzz.safetensors");
    } catch (const model_error &e) {
        FUZZ_CHECK(std::string_view(e.what()).rfind("fuzz.safetensors", 0) == 0, "an error that does not name the file");
        return;
    }
    FUZZ_CHECK(info.data_start == 8 + info.header_length, "data_start is not 8 + header_length");
    FUZZ_CHECK(info.data_start <= bytes.size() && info.data_size == bytes.size() - info.data_start,
               "the data section is not the rest of the file");
    FUZZ_CHECK(info.header_length <= safetensors_max_header_bytes, "a header over the cap was accepted");
    for (const safetensors_tensor_info &t : info.tensors) {
        FUZZ_CHECK(t.element_size != 0 && t.element_size == safetensors_dtype_size(t.dtype), "a wrong element size");
        FUZZ_CHECK(t.shape.size() <= safetensors_max_rank, "a shape over the rank cap");
        // The true product, saturated far above 2^64 (a zero dimension makes it 0 whatever else).
        const u128 cap = static_cast<u128>(1) << 100;
        u128 numel = 1;
        bool has_zero = false;
        for (const int64_t d : t.shape) {
            FUZZ_CHECK(d >= 0, "a negative dimension");
            has_zero = has_zero || d == 0;
            numel = numel > cap / (static_cast<uint64_t>(d) + 1) ? cap : numel * static_cast<uint64_t>(d);
        }
        if (has_zero) numel = 0;
        FUZZ_CHECK(numel == t.numel, "numel is not the shape's product (overflow?)");
        FUZZ_CHECK(t.begin <= t.end && t.end <= info.data_size, "a tensor outside the data section");
        FUZZ_CHECK(static_cast<u128>(t.end - t.begin) == numel * t.element_size,
                   "a byte span that is not numel x element size");
    }
}

void check_shard(std::string_view bytes) {
    const std::string name(bytes.substr(0, 300));
    try {
        check_shard_name(name, "w", "fuzz.safetensors.index.json");
    } catch (const model_error &) {
        return;
    }
    FUZZ_CHECK(!name.empty() && name != "." && name != "..", "an accepted shard name that is no file name");
    FUZZ_CHECK(name.find('/') == std::string::npos && name.find('\0') == std::string::npos,
               "an accepted shard name with a separator or NUL");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view bytes = omnihost::fuzz::as_text(data, size);
    check_header(bytes);
    check_shard(bytes);
    return 0;
}
