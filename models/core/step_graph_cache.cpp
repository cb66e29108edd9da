#include "core/step_graph_cache.h"

#include "core/torch_compat.h"

#include <ATen/ATen.h>

#include <exception>
#include <stdexcept>

namespace omnihost::models {

step_graph_decision decide_step_graphs(bool enforce_eager, const c10::Device &compute_device,
                                       const std::string &blocker) {
    step_graph_decision d;
    if (enforce_eager) {
        d.message = "enforce_eager: on; the denoising step runs eagerly";
        return d;
    }
    const std::string but = "enforce_eager: off requested, but ";
    const std::string eager = ": the denoising step runs eagerly";
    if (!blocker.empty()) {
        d.message = but + blocker + eager;
        return d;
    }
    if (device_graphs_available(compute_device)) {
        d.capture = true;
        d.message = "enforce_eager: off; each request's denoising step is captured in a CUDA graph on " +
                    compute_device.str() + " and replayed (eager if a capture fails)";
        return d;
    }
    // Both reasons where both hold: the log must say why, whichever one the reader can change.
    const char *libtorch = OMNIHOST_HAS_ACCELERATOR_GRAPH ? "" : "this libtorch (" TORCH_VERSION ") cannot capture graphs";
    std::string why;
    if (!compute_device.is_cuda())
        why = "graph capture needs a CUDA device (the compute device is " + compute_device.str() + ")" +
              (*libtorch ? std::string(", and ") + libtorch : std::string());
    else if (*libtorch)
        why = libtorch;
    else
        why = "CUDA is not available to this libtorch";
    d.message = but + why + eager;
    return d;
}

step_graph_cache::step_graph_cache(bool enabled, size_t slots, log_fn log)
    : enabled_(enabled), log_(std::move(log)), graphs_(slots) {}

step_graph_cache::~step_graph_cache() = default;

at::Tensor step_graph_cache::run(size_t slot, const std::string &label, const std::vector<at::Tensor> &inputs,
                                 const device_graph::step_fn &fn) {
    if (!enabled_) return fn(inputs);
    if (slot >= graphs_.size()) throw std::out_of_range("step_graph_cache: slot " + std::to_string(slot) + " of " +
                                                        std::to_string(graphs_.size()));
    std::unique_ptr<device_graph> &g = graphs_[slot];
    if (!g) {
        // Any graph of this request may share its pool: they replay in capture order, one at a time.
        const device_graph *share = nullptr;
        for (const auto &other : graphs_)
            if (other && !share) share = other.get();
        try {
            g = std::make_unique<device_graph>(inputs, fn, share);
        } catch (const std::exception &e) {
            g.reset();
            enabled_ = false;
            if (log_) log_(true, "CUDA graph capture failed, running the denoising step eagerly: " + std::string(e.what()));
            return fn(inputs);
        }
        if (log_) log_(false, "denoising step captured in a CUDA graph (" + label + ")");
    }
    return g->replay(inputs);
}

void step_graph_cache::drop(size_t slot) {
    if (slot < graphs_.size()) graphs_[slot].reset();
}

void step_graph_cache::drop_all() {
    for (auto &g : graphs_) g.reset();
}

size_t step_graph_cache::captured() const {
    size_t n = 0;
    for (const auto &g : graphs_) n += g ? 1 : 0;
    return n;
}

}  // namespace omnihost::models
