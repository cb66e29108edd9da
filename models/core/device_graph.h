// Capture-and-replay of one step on the GPU (CUDA graphs through libtorch's device-generic
// at::accelerator::Graph, where the libtorch has it: the 2.x wheel; 1.13 has none). A step whose
// input shapes stay fixed (one request's denoising step) is captured once and replayed, which
// removes the per-kernel launch cost. Anything that cannot be captured (a host sync inside the
// step, a CPU tensor copied in) makes the capture throw; callers then run the step eagerly.
//
// Not exercised on a GPU by this repository's tests (none of its CI machines has one); on the CPU
// device_graphs_available() is false and nothing here runs.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <functional>
#include <memory>
#include <vector>

namespace omnihost::models {

// True when this libtorch can capture graphs and `device` is a CUDA device that is there.
bool device_graphs_available(const c10::Device &device);

class device_graph {
public:
    using step_fn = std::function<at::Tensor(const std::vector<at::Tensor> &inputs)>;

    // Copies `example_inputs` into static buffers on their device, runs `fn` on them eagerly a
    // few times on a side stream (libraries' workspaces and allocator blocks settle), then captures
    // one call. `fn` is not kept. `share_pool_with`: a graph of the same request replayed in
    // capture order, never concurrently, whose memory pool this one may share. Throws
    // std::runtime_error (or libtorch's error) when the capture is impossible.
    device_graph(const std::vector<at::Tensor> &example_inputs, const step_fn &fn,
                 const device_graph *share_pool_with = nullptr);
    ~device_graph();
    device_graph(const device_graph &) = delete;
    device_graph &operator=(const device_graph &) = delete;

    // Copies `inputs` (the example's shapes and dtypes) into the static buffers, replays, and
    // returns a copy of the output (the graph's own output is overwritten by the next replay).
    at::Tensor replay(const std::vector<at::Tensor> &inputs);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace omnihost::models
