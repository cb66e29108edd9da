// enforce_eager=false for the Wan denoising loop: each (expert, CFG branch) transformer call is
// captured in a device graph on its first step of a request (the shapes are fixed within a
// request) and replayed on the later steps. Disabled, or after a capture that failed, every call
// runs eagerly; the first failure is logged and turns capturing off for the rest of the request.
// Internal to models/wan_pipeline. Untested on a GPU here (no GPU on the build machines).
#pragma once

#include "core/device_graph.h"
#include "wan_transformer/wan_transformer.h"

#include <functional>
#include <memory>
#include <string>

namespace omnihost::models::wan::detail {

class step_graphs {
public:
    // `log(warn, message)` receives the capture's outcome.
    step_graphs(bool enabled, std::function<void(bool warn, const std::string &)> log);

    // model.forward(x, timestep, text) for `expert` (0/1) and `branch` (0 cond, 1 uncond).
    at::Tensor forward(int expert, int branch, const wan_transformer &model, const at::Tensor &x,
                       const at::Tensor &timestep, const wan_text_context &text);

    void drop_expert(int expert);  // its graphs (and their memory) are no longer needed
    void drop_all();

private:
    bool enabled_;
    std::function<void(bool, const std::string &)> log_;
    std::unique_ptr<device_graph> graphs_[2][2];
};

}  // namespace omnihost::models::wan::detail
