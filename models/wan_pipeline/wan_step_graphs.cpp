#include "wan_step_graphs.h"

#include <exception>

namespace omnihost::models::wan::detail {

step_graphs::step_graphs(bool enabled, std::function<void(bool, const std::string &)> log)
    : enabled_(enabled), log_(std::move(log)) {}

at::Tensor step_graphs::forward(int expert, int branch, const wan_transformer &model, const at::Tensor &x,
                                const at::Tensor &timestep, const wan_text_context &text) {
    if (!enabled_) return model.forward(x, timestep, text);
    std::unique_ptr<device_graph> &g = graphs_[expert][branch];
    if (!g) {
        // Any graph of this request may share its pool: they replay in capture order, one at a time.
        const device_graph *share = nullptr;
        for (auto &e : graphs_)
            for (auto &b : e)
                if (b && !share) share = b.get();
        try {
            // `fn` runs only inside the constructor, while `model` and `text` are alive.
            g = std::make_unique<device_graph>(
                std::vector<at::Tensor>{x, timestep},
                [&model, &text](const std::vector<at::Tensor> &in) { return model.forward(in[0], in[1], text); },
                share);
            if (log_)
                log_(false, "denoising step captured in a CUDA graph (" + std::string(expert ? "transformer_2" : "transformer") +
                                ", " + (branch ? "unconditional" : "conditional") + " branch)");
        } catch (const std::exception &e) {
            g.reset();
            enabled_ = false;
            if (log_) log_(true, std::string("CUDA graph capture failed, running the denoising step eagerly: ") + e.what());
            return model.forward(x, timestep, text);
        }
    }
    return g->replay({x, timestep});
}

void step_graphs::drop_expert(int expert) {
    graphs_[expert][0].reset();
    graphs_[expert][1].reset();
}

void step_graphs::drop_all() {
    drop_expert(0);
    drop_expert(1);
}

}  // namespace omnihost::models::wan::detail
