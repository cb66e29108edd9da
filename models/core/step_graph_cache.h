// enforce_eager for a diffusion pipeline's denoising loop, on top of core/device_graph.h: the
// load-time decision (and the log line saying which way and why), and a per-request set of
// captured steps. Each slot (one model call of the step: an expert, a CFG branch) is captured on
// its first call of the request (the shapes are fixed within a request) and replayed on the later
// steps. Disabled, or after a capture that failed, every call runs the step eagerly; the first
// failure is logged as a warning and turns capturing off for the rest of the request.
//
// Not exercised on a GPU by this repository's tests (its CI machines have none): on the CPU the
// decision is always "eager", and a capture attempt fails at once, which is the path tested.
#pragma once

#include "core/device_graph.h"

#include <c10/core/Device.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace omnihost::models {

struct step_graph_decision {
    bool capture = false;  // capture each request's denoising step in a device graph
    std::string message;   // "enforce_eager: ..." for the load log
};

// `blocker`: a setting of the pipeline that rules graphs out on any device, phrased to follow
// "enforce_eager: off requested, but " (e.g. "sequential_cpu_offload moves weights inside the
// step"); empty when none.
step_graph_decision decide_step_graphs(bool enforce_eager, const c10::Device &compute_device,
                                       const std::string &blocker = {});

class step_graph_cache {
public:
    using log_fn = std::function<void(bool warn, const std::string &message)>;

    step_graph_cache(bool enabled, size_t slots, log_fn log);
    ~step_graph_cache();
    step_graph_cache(const step_graph_cache &) = delete;
    step_graph_cache &operator=(const step_graph_cache &) = delete;

    // fn(inputs), through the slot's graph when capturing: captured on the slot's first call (fn is
    // used only then, so what it refers to need only live through that call), replayed afterwards
    // with `inputs` copied into the graph's buffers. `label` names the slot in the log.
    at::Tensor run(size_t slot, const std::string &label, const std::vector<at::Tensor> &inputs,
                   const device_graph::step_fn &fn);

    void drop(size_t slot);  // its graph (and its memory) is no longer needed
    void drop_all();

    bool capturing() const { return enabled_; }  // false once a capture has failed
    size_t captured() const;                     // slots holding a graph

private:
    bool enabled_;
    log_fn log_;
    std::vector<std::unique_ptr<device_graph>> graphs_;
};

}  // namespace omnihost::models
