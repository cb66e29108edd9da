// Strict loading: every parameter and buffer of the module must be in the checkpoint with the same
// shape, and every checkpoint tensor must be used (unless ignored). Float32 CPU loads stay
// zero-copy views of the mmapped file.
#include "core/safetensors.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <sstream>

namespace omnihost::models {
namespace {

std::string shape_str(c10::IntArrayRef s) {
    std::ostringstream o;
    o << "[";
    for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
    o << "]";
    return o.str();
}

bool matches_any(const std::string &name, const std::vector<std::string> &patterns) {
    for (const auto &p : patterns) {
        if (name == p) return true;
        if (!p.empty() && p.back() == '.' && name.compare(0, p.size(), p) == 0) return true;
    }
    return false;
}

bool keep_in_fp32(const std::string &name, const std::vector<std::string> &modules) {
    if (modules.empty()) return false;
    size_t start = 0;
    while (start <= name.size()) {
        size_t dot = name.find('.', start);
        const std::string part = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (std::find(modules.begin(), modules.end(), part) != modules.end()) return true;
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return false;
}

// Convert while loading: once a stored tensor has been copied into the model's dtype (or onto
// another device), its source pages are dropped from this process, so a bf16 load never holds the
// whole fp32 file resident beside the bf16 copy (peak ~ the bf16 model plus one tensor). Only
// whole pages inside the tensor are released: a page shared with a neighbouring tensor stays. For
// the file mapping (MAP_PRIVATE, never written here) a later read re-faults the file's bytes; for
// a heap copy of an unaligned tensor the memory is a temporary that is freed right after.
void release_source_pages(const at::Tensor &stored) {
    if (!stored.device().is_cpu() || stored.nbytes() == 0 || !stored.is_contiguous()) return;
    const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto begin = reinterpret_cast<uintptr_t>(stored.data_ptr());
    const uintptr_t first = (begin + page - 1) / page * page, last = (begin + stored.nbytes()) / page * page;
    if (last > first) ::madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED);
}

}  // namespace

void load_module(torch::nn::Module &module, const tensor_store &store, const load_options &opts) {
    torch::NoGradGuard no_grad;
    const std::string src = store.source().string();

    std::vector<std::pair<std::string, at::Tensor>> targets;
    for (auto &kv : module.named_parameters(/*recurse=*/true)) targets.emplace_back(kv.key(), kv.value());
    for (auto &kv : module.named_buffers(/*recurse=*/true)) targets.emplace_back(kv.key(), kv.value());

    std::set<std::string> wanted;
    std::vector<std::string> missing;
    for (const auto &[name, t] : targets) {
        wanted.insert(name);
        if (!store.contains(name)) missing.push_back(name);
    }
    if (!missing.empty()) {
        std::string more = missing.size() > 1 ? " (and " + std::to_string(missing.size() - 1) + " more)" : "";
        throw model_error(src + ": missing key '" + missing.front() + "'" + more);
    }
    std::vector<std::string> unexpected;
    for (const auto &name : store.names())
        if (!wanted.count(name) && !matches_any(name, opts.ignore_unexpected)) unexpected.push_back(name);
    if (!unexpected.empty()) {
        std::string more = unexpected.size() > 1 ? " (and " + std::to_string(unexpected.size() - 1) + " more)" : "";
        throw model_error(src + ": unexpected key '" + unexpected.front() + "'" + more);
    }
    for (const auto &[name, t] : targets) {
        at::Tensor stored = store.get(name);
        if (stored.sizes() != t.sizes())
            throw model_error(src + ": shape mismatch for '" + name + "': checkpoint " + shape_str(stored.sizes()) +
                              ", model " + shape_str(t.sizes()));
    }
    for (auto &[name, t] : targets) {
        at::Tensor stored = store.get(name);
        c10::ScalarType dt = stored.scalar_type();
        if (at::isFloatingType(dt)) dt = keep_in_fp32(name, opts.keep_fp32) ? c10::kFloat : opts.dtype;
        else dt = t.scalar_type();  // integer buffers keep the module's dtype
        at::Tensor value = stored.to(opts.device, dt);
        if (!value.is_alias_of(stored)) release_source_pages(stored);
        const bool grad = t.requires_grad();
        t.set_data(value);
        if (grad) t.requires_grad_(false);  // inference only: no autograd bookkeeping
    }
}

}  // namespace omnihost::models
