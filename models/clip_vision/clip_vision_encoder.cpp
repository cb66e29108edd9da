#include "clip_vision/clip_vision_encoder.h"

#include "clip_vision/clip_vision_modules.h"
#include "core/safetensors.h"

namespace omnihost::models {

namespace fs = std::filesystem;
using namespace clip_vision_detail;

struct clip_vision_encoder::impl {
    clip_vision_config config;
    clip_vision_options opts;
    vision_model model{nullptr};

    // Runs the embeddings and the first `layers` encoder layers: {hidden_states[layers],
    // hidden_states[layers - 1]} (the second is the embedding output when layers is 0 or 1).
    std::pair<at::Tensor, at::Tensor> run(const at::Tensor &pixel_values, int64_t layers) const {
        vision_model m = model;  // a holder copy (shared): the modules' forward is non-const
        auto vm = m->vision_model;
        at::Tensor h = vm->pre_layrnorm(vm->embeddings_(pixel_values.to(opts.device)));
        at::Tensor previous = h;
        for (int64_t i = 0; i < layers; ++i) {
            previous = h;
            h = vm->encoder_->layers[static_cast<size_t>(i)]->forward(h);
        }
        return {h, previous};
    }

    void check_input(const at::Tensor &pv) const {
        if (!pv.defined() || pv.dim() != 4 || pv.size(1) != config.num_channels || pv.size(2) != config.image_size ||
            pv.size(3) != config.image_size || !at::isFloatingType(pv.scalar_type())) {
            throw model_error("CLIP vision encoder: pixel_values must be floating [batch, " +
                              std::to_string(config.num_channels) + ", " + std::to_string(config.image_size) + ", " +
                              std::to_string(config.image_size) + "]");
        }
    }
};

clip_vision_encoder clip_vision_encoder::load(const fs::path &dir, const clip_vision_options &opts) {
    if (opts.dtype != c10::kFloat && opts.dtype != c10::kBFloat16 && opts.dtype != c10::kHalf) {
        throw model_error(std::string("CLIP vision encoder dtype ") + c10::toString(opts.dtype) +
                          " is not supported (use float32, bfloat16 or float16)");
    }
    auto config = clip_vision_config::from_json_file(dir / "config.json");
    const auto store = tensor_store::open(dir);
    vision_model model(config, opts.dtype);
    load_options lo;
    lo.dtype = opts.dtype;
    lo.device = opts.device;
    if (store.contains("vision_model.embeddings.class_embedding")) {
        lo.ignore_unexpected = {"vision_model.embeddings.position_ids"};
        load_module(*model, store, lo);
    } else if (store.contains("embeddings.class_embedding")) {
        lo.ignore_unexpected = {"embeddings.position_ids"};  // transformers 5 layout: no prefix
        load_module(*model->vision_model, store, lo);
    } else {
        throw model_error(store.source().string() + ": missing key 'vision_model.embeddings.class_embedding'");
    }
    model->eval();
    return clip_vision_encoder(std::make_unique<impl>(impl{std::move(config), opts, std::move(model)}));
}

clip_vision_outputs clip_vision_encoder::forward(const at::Tensor &pixel_values) const {
    impl_->check_input(pixel_values);
    torch::NoGradGuard no_grad;
    auto [last, previous] = impl_->run(pixel_values, impl_->config.num_hidden_layers);
    clip_vision_outputs out;
    out.penultimate_hidden_state = previous;
    vision_model m = impl_->model;
    out.pooler_output = m->vision_model->post_layernorm(last.select(1, 0));
    out.last_hidden_state = std::move(last);
    return out;
}

at::Tensor clip_vision_encoder::encode(const at::Tensor &pixel_values) const {
    impl_->check_input(pixel_values);
    torch::NoGradGuard no_grad;
    return impl_->run(pixel_values, impl_->config.num_hidden_layers - 1).first;
}

void clip_vision_encoder::to(c10::Device device) {
    impl_->model->to(device);
    impl_->opts.device = device;
}

c10::Device clip_vision_encoder::device() const { return impl_->opts.device; }
c10::ScalarType clip_vision_encoder::dtype() const { return impl_->opts.dtype; }
const clip_vision_config &clip_vision_encoder::config() const { return impl_->config; }

int64_t clip_vision_encoder::parameter_count() const {
    int64_t n = 0;
    for (const auto &p : impl_->model->parameters()) n += p.numel();
    return n;
}

clip_vision_encoder::clip_vision_encoder(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
clip_vision_encoder::clip_vision_encoder(clip_vision_encoder &&) noexcept = default;
clip_vision_encoder &clip_vision_encoder::operator=(clip_vision_encoder &&) noexcept = default;
clip_vision_encoder::~clip_vision_encoder() = default;

}  // namespace omnihost::models
