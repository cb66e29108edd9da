// A .safetensors file (8-byte header length, JSON header, data) opened the way the model loaders
// open one: tensor_store::open on a file holding the input, then every tensor fetched and read.
// Properties: a bad file is a model_error, nothing else escapes; every tensor handed out lies
// inside the file's data section, and its element count times its element size neither
// overflows nor exceeds that section (the shape product and offsets are checked arithmetic).
#include "fuzz_check.h"

#include "core/safetensors.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <fstream>

namespace {

const std::string &weights_file() {
    static const std::string file = [] {
        const char *tmp = std::getenv("TMPDIR");
        std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/omnihost-fuzz-st-XXXXXX";
        FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr, "cannot create a temporary folder");
        return pattern + "/model.safetensors";
    }();
    return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    {
        std::ofstream out(weights_file(), std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char *>(data), static_cast<std::streamsize>(size));
    }
    omnihost::models::tensor_store store;
    try {
        store = omnihost::models::tensor_store::open(weights_file());
    } catch (const omnihost::models::model_error &) {
        return 0;
    }
    // The data section, from the header length the file itself states.
    FUZZ_CHECK(size >= 8, "opened a file shorter than its header length");
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | data[i];
    FUZZ_CHECK(header_len <= size - 8, "opened a file whose header runs past its end");
    const uint64_t data_bytes = size - 8 - header_len;

    for (const std::string &name : store.names()) {
        FUZZ_CHECK(store.contains(name), "names() lists a tensor contains() denies");
        at::Tensor t;
        try {
            t = store.get(name);
        } catch (const omnihost::models::model_error &) {
            continue;
        }
        unsigned __int128 elements = 1;
        for (const int64_t d : t.sizes()) {
            FUZZ_CHECK(d >= 0, "a negative dimension");
            elements *= static_cast<uint64_t>(d);
            FUZZ_CHECK(elements <= data_bytes, "a tensor with more elements than the data section has bytes");
        }
        const unsigned __int128 bytes = elements * t.element_size();
        FUZZ_CHECK(bytes <= data_bytes, "a tensor larger than the data section");
        // Read every byte: a view past the mapping faults here.
        const at::Tensor dense = t.contiguous();
        const auto *p = static_cast<const unsigned char *>(dense.data_ptr());
        unsigned sum = 0;
        for (uint64_t i = 0; i < static_cast<uint64_t>(bytes); ++i) sum += p[i];
        (void)sum;
    }
    return 0;
}
