// omnihost::models::wan_vae::vae: loading, input checks, de-normalisation and the batch-level
// decode (slicing) around detail::decode_slice.
#include "wan_vae_model.h"

#include "core/safetensors.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <sstream>
#include <stdexcept>

namespace omnihost::models::wan_vae {

namespace {

std::string shape_string(const at::Tensor &t) {
    std::ostringstream s;
    s << '[';
    for (int64_t i = 0; i < t.dim(); ++i) s << (i ? ", " : "") << t.size(i);
    s << ']';
    return s.str();
}

void check_latent_shape(const at::Tensor &t, const vae_config &cfg, const char *name) {
    if (!t.defined()) throw std::invalid_argument(std::string("wan_vae: ") + name + " is undefined");
    if (t.dim() != 5)
        throw std::invalid_argument(std::string("wan_vae: ") + name + " must be 5-D [B, z_dim, F, H, W], got " +
                                    shape_string(t));
    if (t.size(1) != cfg.z_dim)
        throw std::invalid_argument(std::string("wan_vae: ") + name + " channel dimension (dim 1) must be z_dim = " +
                                    std::to_string(cfg.z_dim) + ", got " + shape_string(t));
    const char *dims[] = {"batch (dim 0)", "", "frames (dim 2)", "height (dim 3)", "width (dim 4)"};
    for (int d : {0, 2, 3, 4})
        if (t.size(d) < 1)
            throw std::invalid_argument(std::string("wan_vae: ") + name + " " + dims[d] + " must be >= 1, got " +
                                        shape_string(t));
    if (!at::isFloatingType(t.scalar_type()))
        throw std::invalid_argument(std::string("wan_vae: ") + name + " must be a floating-point tensor");
}

}  // namespace

vae::vae(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
vae::vae(vae &&) noexcept = default;
vae &vae::operator=(vae &&) noexcept = default;
vae::~vae() = default;

vae vae::load(const std::filesystem::path &component_dir, const load_settings &settings) {
    return load(vae_config::from_file(component_dir / "config.json"), component_dir, settings);
}

vae vae::load(const vae_config &config, const std::filesystem::path &weights, const load_settings &settings) {
    if (settings.dtype != at::kFloat && settings.dtype != at::kBFloat16)
        throw model_error(std::string("wan_vae: unsupported dtype ") + c10::toString(settings.dtype) +
                          " (supported: float32, bfloat16)");
    auto p = std::make_unique<impl>();
    p->config = config;
    p->settings = settings;
    p->model = std::make_shared<detail::vae_module>(config, detail::tensor_options{settings.dtype, settings.device},
                                                    settings.with_encoder);

    const tensor_store store = tensor_store::open(weights);
    load_options opts;
    opts.dtype = settings.dtype;
    opts.device = settings.device;
    // Without with_encoder the encoder half of AutoencoderKLWan is not built (text-to-video never
    // encodes); with it every key of both halves must be present.
    if (!settings.with_encoder) opts.ignore_unexpected = {"encoder.", "quant_conv."};
    load_module(*p->model, store, opts);
    for (const auto &param : p->model->parameters()) p->parameter_count += param.numel();
    return vae(std::move(p));
}

const vae_config &vae::config() const { return impl_->config; }
c10::ScalarType vae::dtype() const { return impl_->settings.dtype; }
c10::Device vae::device() const { return impl_->settings.device; }

void vae::to(c10::Device device) {
    if (device == impl_->settings.device) return;
    at::NoGradGuard no_grad;
    for (auto &p : impl_->model->parameters(true)) p.set_data(p.to(device));
    for (auto &b : impl_->model->buffers(true)) b.set_data(b.to(device));
    impl_->settings.device = device;
}

std::string vae::describe() const {
    const vae_config &c = impl_->config;
    std::ostringstream s;
    s << "AutoencoderKLWan (" << (c.is_residual ? "Wan2.2" : "Wan2.1") << " type, "
      << (impl_->model->encoder ? "encoder + decoder" : "decoder only") << "): z_dim " << c.z_dim
      << ", decoder_base_dim " << c.decoder_base_dim << ", dim_mult [";
    for (size_t i = 0; i < c.dim_mult.size(); ++i) s << (i ? "," : "") << c.dim_mult[i];
    s << "], num_res_blocks " << c.num_res_blocks << ", patch_size " << c.patch_size << ", x"
      << c.scale_factor_spatial << " spatial / x" << c.scale_factor_temporal << " temporal, "
      << c10::toString(impl_->settings.dtype) << " on " << impl_->settings.device.str() << ", "
      << impl_->parameter_count << " parameters";
    return s.str();
}

int64_t vae::output_frames(int64_t latent_frames) const {
    return 1 + impl_->model->decoder->temporal_factor() * (latent_frames - 1);
}

at::Tensor vae::denormalize(const at::Tensor &latents) const {
    check_latent_shape(latents, impl_->config, "latents");
    at::NoGradGuard no_grad;
    const auto dtype = impl_->settings.dtype;
    const auto device = impl_->settings.device;
    const int64_t z = impl_->config.z_dim;
    // torch.tensor(list of Python floats) is float32; the pipeline then moves it to the VAE dtype and
    // takes 1.0 / std there (Tensor.__rtruediv__ = reciprocal() * 1.0).
    auto column = [&](const std::vector<double> &values) {
        std::vector<float> f(values.begin(), values.end());
        return at::tensor(f, at::kFloat).view({1, z, 1, 1, 1}).to(device, dtype);
    };
    const at::Tensor mean = column(impl_->config.latents_mean);
    const at::Tensor inv_std = column(impl_->config.latents_std).reciprocal();
    return latents.to(device, dtype) / inv_std + mean;
}

at::Tensor vae::decode(const at::Tensor &z_in, const decode_options &options) const {
    const vae_config &cfg = impl_->config;
    check_latent_shape(z_in, cfg, "z");
    at::NoGradGuard no_grad;
    const at::Tensor z = z_in.to(impl_->settings.device, impl_->settings.dtype);
    const int64_t batch = z.size(0);
    const bool sliced = options.use_slicing && batch > 1;

    detail::progress_counter progress{options};
    const int64_t tiles = detail::uses_tiling(cfg, options, z.size(3), z.size(4))
                              ? detail::tile_count(cfg, options.tiling, z.size(3), z.size(4))
                              : 1;
    progress.total = (sliced ? batch : 1) * tiles * z.size(2);

    if (!sliced) return detail::decode_slice(*impl_->model, cfg, z, options, progress);
    // vae.enable_slicing(): one batch item at a time, written into one preallocated result.
    at::Tensor out;
    for (int64_t b = 0; b < batch; ++b) {
        at::Tensor item = detail::decode_slice(*impl_->model, cfg, z.slice(0, b, b + 1), options, progress);
        if (!out.defined()) {
            auto sizes = item.sizes().vec();
            sizes[0] = batch;
            out = at::empty(sizes, item.options());
        }
        out.slice(0, b, b + 1).copy_(item);
    }
    return out;
}

at::Tensor vae::decode_latents(const at::Tensor &latents, const decode_options &options) const {
    return decode(denormalize(latents), options);
}

}  // namespace omnihost::models::wan_vae
