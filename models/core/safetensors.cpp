// safetensors format: u64 little-endian header length, a JSON header
//   {name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}
// then the raw data; offsets are relative to the end of the header. Files are mmapped
// (MAP_PRIVATE, so an accidental in-place write copies a page instead of crashing) and tensors
// are views over the mapping that keep it alive.
#include "core/safetensors.h"

#include "core/regular_file.h"
#include "core/safetensors_header.h"

#include <common/json_limits.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <string_view>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace omnihost::models {
namespace {

struct dtype_info {
    const char *name;
    c10::ScalarType type;
    size_t size;
};
const dtype_info dtype_table[] = {
    {"F64", c10::kDouble, 8}, {"F32", c10::kFloat, 4}, {"F16", c10::kHalf, 2},
    {"BF16", c10::kBFloat16, 2}, {"I64", c10::kLong, 8}, {"I32", c10::kInt, 4},
    {"I16", c10::kShort, 2}, {"I8", c10::kChar, 1}, {"U8", c10::kByte, 1},
    {"BOOL", c10::kBool, 1},
};

const dtype_info *dtype_by_name(const std::string &name) {
    for (const auto &d : dtype_table)
        if (name == d.name) return &d;
    return nullptr;
}
const dtype_info *dtype_by_type(c10::ScalarType t) {
    for (const auto &d : dtype_table)
        if (t == d.type) return &d;
    return nullptr;
}

// One mmapped file; shared by every tensor view taken from it.
struct mapping {
    void *base = nullptr;
    size_t size = 0;
    ~mapping() {
        if (base && base != MAP_FAILED) munmap(base, size);
    }
};

struct entry {
    std::shared_ptr<mapping> map;
    fs::path file;
    size_t offset = 0;  // absolute offset in the file
    size_t bytes = 0;
    const dtype_info *dtype = nullptr;
    std::vector<int64_t> shape;
};

[[noreturn]] void fail(const fs::path &file, const std::string &msg) {
    throw model_error(file.string() + ": " + msg);
}

void parse_file(const fs::path &file, std::map<std::string, entry> &out,
                const std::set<std::string> *only = nullptr) {
    uint64_t file_size = 0;
    const int fd = open_regular_file(file, "safetensors file", &file_size);
    if (file_size < 8) {
        ::close(fd);
        fail(file, "truncated: " + std::to_string(file_size) + " bytes, smaller than the 8-byte header length");
    }
    if (file_size > static_cast<uint64_t>(std::numeric_limits<size_t>::max())) {
        ::close(fd);
        fail(file, "too large to map");
    }
    auto map = std::make_shared<mapping>();
    map->size = static_cast<size_t>(file_size);
    map->base = mmap(nullptr, map->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    const int map_errno = errno;
    ::close(fd);
    if (map->base == MAP_FAILED) fail(file, std::string("mmap failed: ") + std::strerror(map_errno));

    const safetensors_header_info info =
        parse_safetensors_header(std::string_view(static_cast<const char *>(map->base), map->size), file.string());
    for (const auto &t : info.tensors) {
        if (only && !only->count(t.name)) continue;
        entry e;
        e.map = map;
        e.file = file;
        e.offset = static_cast<size_t>(info.data_start + t.begin);  // <= file size, checked by the parser
        e.bytes = static_cast<size_t>(t.end - t.begin);
        e.dtype = dtype_by_name(t.dtype);
        if (!e.dtype) fail(file, "tensor '" + t.name + "': unsupported dtype '" + t.dtype + "'");
        e.shape = t.shape;
        out[t.name] = std::move(e);
    }
}

fs::path pick_in_directory(const fs::path &dir) {
    for (const char *name : {"diffusion_pytorch_model.safetensors.index.json", "model.safetensors.index.json",
                             "diffusion_pytorch_model.safetensors", "model.safetensors"}) {
        if (fs::exists(dir / name)) return dir / name;
    }
    std::vector<fs::path> indexes, singles;
    for (const auto &de : fs::directory_iterator(dir)) {
        const std::string n = de.path().filename().string();
        auto ends = [&](const std::string &suf) {
            return n.size() >= suf.size() && n.compare(n.size() - suf.size(), suf.size(), suf) == 0;
        };
        if (ends(".safetensors.index.json")) indexes.push_back(de.path());
        else if (ends(".safetensors")) singles.push_back(de.path());
    }
    if (indexes.size() == 1) return indexes[0];
    if (indexes.empty() && singles.size() == 1) return singles[0];
    if (indexes.empty() && singles.empty())
        throw model_error(dir.string() + ": no *.safetensors or *.safetensors.index.json file in this folder");
    std::string list;
    for (const auto &p : indexes.empty() ? singles : indexes) (list += ' ') += p.filename().string();
    throw model_error(dir.string() + ": several candidate weight files, pass one explicitly:" + list);
}

}  // namespace

struct tensor_store::impl {
    fs::path source;
    std::map<std::string, entry> entries;
};

tensor_store::tensor_store() : impl_(std::make_unique<impl>()) {}
tensor_store::~tensor_store() = default;
tensor_store::tensor_store(tensor_store &&) noexcept = default;
tensor_store &tensor_store::operator=(tensor_store &&) noexcept = default;

tensor_store tensor_store::open(const fs::path &path_in) {
    if (!fs::exists(path_in)) throw model_error(path_in.string() + ": weights not found");
    fs::path path = fs::is_directory(path_in) ? pick_in_directory(path_in) : path_in;
    tensor_store store;
    store.impl_->source = path;
    const std::string fname = path.filename().string();
    const bool is_index = fname.size() > 5 && fname.substr(fname.size() - 5) == ".json";
    if (!is_index) {
        parse_file(path, store.impl_->entries);
        return store;
    }
    // Sharded: weight_map {tensor name: shard file name}, shard files beside the index.
    nlohmann::json index;
    try {
        index = omnihost::parse_json_bounded(read_regular_file(path, "index file", max_model_json_bytes));
    } catch (const nlohmann::json::exception &e) {
        throw model_error(path.string() + ": invalid index JSON: " + e.what());
    } catch (const omnihost::json_limit_error &e) {
        throw model_error(path.string() + ": invalid index JSON: " + e.what());
    }
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
        throw model_error(path.string() + ": index has no \"weight_map\" object");
    std::map<std::string, std::set<std::string>> by_shard;
    for (const auto &[name, shard] : index["weight_map"].items()) {
        if (!shard.is_string()) throw model_error(path.string() + ": weight_map entry '" + name + "' is not a file name");
        check_shard_name(shard.get<std::string>(), name, path.string());
        by_shard[shard.get<std::string>()].insert(name);
    }
    for (const auto &[shard, names] : by_shard) {
        const fs::path shard_path = path.parent_path() / shard;
        if (!fs::exists(shard_path))
            throw model_error(path.string() + ": shard '" + shard + "' (holding '" + *names.begin() + "') is missing");
        std::map<std::string, entry> got;
        parse_file(shard_path, got, &names);
        for (const auto &n : names)
            if (!got.count(n))
                throw model_error(shard_path.string() + ": tensor '" + n + "' listed in " + fname + " is not in this shard");
        for (auto &[n, e] : got) store.impl_->entries[n] = std::move(e);
    }
    return store;
}

bool tensor_store::contains(const std::string &name) const { return impl_->entries.count(name) != 0; }

at::Tensor tensor_store::get(const std::string &name) const {
    auto it = impl_->entries.find(name);
    if (it == impl_->entries.end()) throw model_error(impl_->source.string() + ": no tensor named '" + name + "'");
    const entry &e = it->second;
    const auto opts = at::TensorOptions().dtype(e.dtype->type).device(c10::kCPU);
    if (e.bytes == 0) return at::empty(e.shape, opts);
    char *ptr = static_cast<char *>(e.map->base) + e.offset;
    if (reinterpret_cast<uintptr_t>(ptr) % e.dtype->size != 0) {
        // Misaligned data (unusual writer): copy into an aligned tensor.
        at::Tensor t = at::empty(e.shape, opts);
        std::memcpy(t.data_ptr(), ptr, e.bytes);
        return t;
    }
    auto keep = e.map;
    return at::from_blob(ptr, e.shape, [keep](void *) mutable { keep.reset(); }, opts);
}

std::vector<std::string> tensor_store::names() const {
    std::vector<std::string> out;
    out.reserve(impl_->entries.size());
    for (const auto &kv : impl_->entries) out.push_back(kv.first);
    return out;  // std::map keeps them sorted
}

const fs::path &tensor_store::source() const { return impl_->source; }

void save_safetensors(const fs::path &file, const std::vector<std::pair<std::string, at::Tensor>> &tensors) {
    nlohmann::json header = nlohmann::json::object();
    header["__metadata__"] = {{"format", "pt"}};
    std::vector<at::Tensor> data;
    uint64_t offset = 0;
    for (const auto &[name, t0] : tensors) {
        if (header.contains(name)) throw model_error(file.string() + ": duplicate tensor name '" + name + "'");
        const dtype_info *dt = dtype_by_type(t0.scalar_type());
        if (!dt)
            throw model_error(file.string() + ": tensor '" + name + "' has dtype " +
                              std::string(c10::toString(t0.scalar_type())) + ", which safetensors cannot store here");
        at::Tensor t = t0.to(c10::kCPU).contiguous();
        const uint64_t bytes = static_cast<uint64_t>(t.numel()) * dt->size;
        header[name] = {{"dtype", dt->name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
        data.push_back(t);
    }
    std::string h = header.dump();
    while (h.size() % 8 != 0) h.push_back(' ');  // keeps the data 8-byte aligned
    // Write to a temporary name first so a failed write never leaves a half-written file.
    const fs::path tmp = file.string() + ".partial";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw model_error(tmp.string() + ": cannot create file");
        const uint64_t n = h.size();
        unsigned char len[8];
        for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
        out.write(reinterpret_cast<const char *>(len), 8);
        out.write(h.data(), static_cast<std::streamsize>(h.size()));
        for (const auto &t : data)
            out.write(static_cast<const char *>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
        if (!out) {
            out.close();
            fs::remove(tmp);
            throw model_error(tmp.string() + ": write failed");
        }
    }
    fs::rename(tmp, file);
}

}  // namespace omnihost::models
