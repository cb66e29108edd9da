// Strict loading: every parameter and buffer of the module must be in the checkpoint with the same
// shape, and every checkpoint tensor must be used (unless ignored). Float32 CPU loads stay
// zero-copy views of the mmapped file.
#include "core/safetensors.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <algorithm>
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
        const bool grad = t.requires_grad();
        t.set_data(value);
        if (grad) t.requires_grad_(false);  // inference only: no autograd bookkeeping
    }
}

}  // namespace omnihost::models
