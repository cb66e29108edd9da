// omnihost::models::oobleck::vae: loading (strict, weight norm folded) and the batch-level decode.
#include "oobleck_vae.h"

#include "oobleck_modules.h"

#include "core/safetensors.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <sstream>

namespace omnihost::models::oobleck {

// The root of the module tree, so parameter names start with "decoder.".
class root_module : public torch::nn::Module {
public:
    explicit root_module(const oobleck_config &c) {
        std::vector<int64_t> up(c.downsampling_ratios.rbegin(), c.downsampling_ratios.rend());
        dec = register_module("decoder", std::make_shared<detail::decoder>(c.decoder_channels, c.decoder_input_channels,
                                                                            c.audio_channels, up, c.channel_multiples));
    }
    std::shared_ptr<detail::decoder> dec;
};

struct vae::impl {
    oobleck_config config;
    load_settings settings;
    std::shared_ptr<root_module> model;
    int64_t parameter_count = 0;
};

vae::vae(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
vae::vae(vae &&) noexcept = default;
vae &vae::operator=(vae &&) noexcept = default;
vae::~vae() = default;

vae vae::load(const std::filesystem::path &component_dir, const load_settings &settings) {
    return load(oobleck_config::from_file(component_dir / "config.json"), component_dir, settings);
}

vae vae::load(const oobleck_config &config, const std::filesystem::path &weights, const load_settings &settings) {
    if (settings.dtype != at::kFloat && settings.dtype != at::kBFloat16)
        throw model_error(std::string("oobleck: unsupported dtype ") + c10::toString(settings.dtype) +
                          " (supported: float32, bfloat16)");
    torch::NoGradGuard no_grad;
    auto p = std::make_unique<impl>();
    p->config = config;
    p->settings = settings;
    p->model = std::make_shared<root_module>(config);
    const tensor_store store = tensor_store::open(weights);
    load_options opts;
    opts.dtype = at::kFloat;  // folded in float32, then cast
    opts.device = at::kCPU;
    opts.ignore_unexpected = {"encoder."};  // text-to-audio never encodes
    load_module(*p->model, store, opts);
    for (const auto &param : p->model->parameters()) p->parameter_count += param.numel();
    p->model->dec->fold(settings.dtype, settings.device);
    return vae(std::move(p));
}

const oobleck_config &vae::config() const { return impl_->config; }
c10::ScalarType vae::dtype() const { return impl_->settings.dtype; }
c10::Device vae::device() const { return impl_->settings.device; }
int64_t vae::parameter_count() const { return impl_->parameter_count; }

std::string vae::describe() const {
    const auto &c = impl_->config;
    std::ostringstream s;
    s << "AutoencoderOobleck (decoder only): latent channels " << c.decoder_input_channels << ", hop "
      << c.hop_length() << ", " << c.audio_channels << " ch @ " << c.sampling_rate << " Hz, "
      << impl_->parameter_count << " params, " << c10::toString(impl_->settings.dtype) << " on "
      << impl_->settings.device.str();
    return s.str();
}

void vae::to(c10::Device device) {
    torch::NoGradGuard no_grad;
    impl_->model->dec->fold(impl_->settings.dtype, device);
    impl_->settings.device = device;
}

at::Tensor vae::decode(const at::Tensor &latents, const decode_options &options) const {
    const auto &c = impl_->config;
    if (!latents.defined() || latents.dim() != 3 || latents.size(1) != c.decoder_input_channels ||
        latents.size(0) < 1 || latents.size(2) < 1 || !at::isFloatingType(latents.scalar_type()))
        throw std::invalid_argument("oobleck: latents must be a floating tensor [B, " +
                                    std::to_string(c.decoder_input_channels) + ", L] with B, L >= 1");
    torch::NoGradGuard no_grad;
    const auto &dec = *impl_->model->dec;
    const at::Tensor z = latents.to(impl_->settings.device, impl_->settings.dtype);
    const int64_t slices = options.use_slicing ? z.size(0) : 1;
    const int64_t total = slices * static_cast<int64_t>(dec.num_blocks());
    int64_t done = 0;
    std::vector<at::Tensor> outs;
    for (int64_t s = 0; s < slices; ++s) {
        at::Tensor h = dec.forward_head(options.use_slicing ? z.narrow(0, s, 1) : z);
        for (size_t b = 0; b < dec.num_blocks(); ++b) {
            if (options.is_cancelled && options.is_cancelled()) throw decode_cancelled("Oobleck decode cancelled");
            h = dec.forward_block(b, h);
            if (options.progress) options.progress(++done, total);
        }
        outs.push_back(dec.forward_tail(h));
    }
    return outs.size() == 1 ? outs.front() : at::cat(outs, 0);
}

}  // namespace omnihost::models::oobleck
