#include "core/device_graph.h"

#include "core/torch_compat.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/core/grad_mode.h>

#if OMNIHOST_HAS_ACCELERATOR_GRAPH
#include <ATen/accelerator/Graph.h>
#include <c10/core/Event.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#endif

#include <stdexcept>

namespace omnihost::models {

bool device_graphs_available(const c10::Device &device) {
#if OMNIHOST_HAS_ACCELERATOR_GRAPH
    return device.is_cuda() && at::hasCUDA();
#else
    (void)device;
    return false;
#endif
}

#if OMNIHOST_HAS_ACCELERATOR_GRAPH

struct device_graph::impl {
    std::vector<at::Tensor> inputs;  // static buffers the graph reads
    at::Tensor output;               // the graph's output buffer (in its pool)
    at::accelerator::Graph graph;
};

device_graph::device_graph(const std::vector<at::Tensor> &example_inputs, const step_fn &fn,
                           const device_graph *share_pool_with)
    : impl_(std::make_unique<impl>()) {
    if (example_inputs.empty()) throw std::runtime_error("device_graph: no inputs");
    const c10::Device dev = example_inputs.front().device();
    if (!device_graphs_available(dev)) throw std::runtime_error("device_graph: graphs need a CUDA device");
    at::NoGradGuard no_grad;
    for (const auto &t : example_inputs) impl_->inputs.push_back(t.clone(at::MemoryFormat::Contiguous));

    // Capture must run on a stream of its own (never the default one); it first waits for the
    // work already queued on the current stream (the static inputs' copies among it).
    const c10::impl::DeviceGuardImplInterface *guard = c10::impl::getDeviceGuardImpl(dev.type());
    const c10::Stream current = guard->getStream(dev);
    const c10::Stream side = guard->getStreamFromGlobalPool(dev, /*isHighPriority=*/false);
    c10::Event queued(dev.type());
    queued.record(current);
    queued.block(side);
    {
        c10::StreamGuard on_side(side);
        // Warm-up, as torch.cuda.graphs recommends: cuBLAS handles, workspaces, allocator blocks.
        for (int i = 0; i < 3; ++i) (void)fn(impl_->inputs);
        bool capturing = false;
        try {
            if (share_pool_with)
                impl_->graph.capture_begin(share_pool_with->impl_->graph.pool());
            else
                impl_->graph.capture_begin();
            capturing = true;
            impl_->output = fn(impl_->inputs);
            capturing = false;
            impl_->graph.capture_end();
        } catch (...) {
            if (capturing) {
                try {
                    impl_->graph.capture_end();  // leave the stream out of capture mode
                } catch (...) {
                }
            }
            throw;
        }
    }
    c10::Event captured(dev.type());
    captured.record(side);
    captured.block(current);
}

device_graph::~device_graph() = default;

at::Tensor device_graph::replay(const std::vector<at::Tensor> &inputs) {
    if (inputs.size() != impl_->inputs.size()) throw std::invalid_argument("device_graph: wrong number of inputs");
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (inputs[i].sizes() != impl_->inputs[i].sizes())
            throw std::invalid_argument("device_graph: input " + std::to_string(i) + " changed shape since the capture");
        impl_->inputs[i].copy_(inputs[i]);
    }
    impl_->graph.replay();
    return impl_->output.clone();
}

#else  // no graph capture in this libtorch

struct device_graph::impl {};

device_graph::device_graph(const std::vector<at::Tensor> &, const step_fn &, const device_graph *) {
    throw std::runtime_error("this libtorch cannot capture device graphs");
}

device_graph::~device_graph() = default;

at::Tensor device_graph::replay(const std::vector<at::Tensor> &) {
    throw std::logic_error("device_graph: not available in this libtorch");
}

#endif

}  // namespace omnihost::models
