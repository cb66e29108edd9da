// The encode side of omnihost::models::wan_vae::vae: diffusers' AutoencoderKLWan._encode (patchify,
// first frame alone then chunks of 4 through the encoder with one feature cache, quant_conv),
// tiled_encode (tiles in patchified pixels, blended in the latent space with the reference's
// in-place order), slicing over the batch, and the pipeline's latent normalisation.
#include "wan_vae_model.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <string>

namespace omnihost::models::wan_vae {

namespace detail {

namespace {

// diffusers' patchify: [b, c, f, h, w] -> [b, c * p * p, f, h / p, w / p], channel c*p*p + pw*p + ph.
at::Tensor patchify(const at::Tensor &x, int64_t p) {
    if (p == 1) return x;
    const int64_t b = x.size(0), c = x.size(1), f = x.size(2), h = x.size(3), w = x.size(4);
    return x.view({b, c, f, h / p, p, w / p, p})
        .permute({0, 1, 6, 4, 2, 3, 5})
        .contiguous()
        .view({b, c * p * p, f, h / p, w / p});
}

int64_t chunk_count(int64_t frames) { return 1 + (frames - 1) / 4; }

// Frames [0, 1) then [1 + 4 (k - 1), 1 + 4 k): the reference's chunking.
at::Tensor chunk_of(const at::Tensor &x, int64_t k) {
    return k == 0 ? x.slice(2, 0, 1) : x.slice(2, 1 + 4 * (k - 1), 1 + 4 * k);
}

// Runs every chunk of x through the encoder with a fresh feature cache; quant_conv per chunk when
// `quant_per_chunk` (the tiled path), else on the concatenation (the plain path).
at::Tensor encode_chunks(const vae_module &model, const at::Tensor &x, bool quant_per_chunk,
                         progress_counter &progress) {
    const encoder3d &encoder = *model.encoder;
    feature_cache cache;
    cache.reset(encoder.cached_conv_count());
    std::vector<at::Tensor> outs;
    for (int64_t k = 0; k < chunk_count(x.size(2)); ++k) {
        progress.before_chunk();
        cache.cursor = 0;
        at::Tensor y = encoder.forward(chunk_of(x, k), cache);
        if (cache.cursor != cache.slots.size())
            throw std::logic_error("wan_vae: encoder used " + std::to_string(cache.cursor) + " cache slots, expected " +
                                   std::to_string(cache.slots.size()));
        outs.push_back(quant_per_chunk ? model.quant_conv->forward(y) : y);
        progress.after_chunk();
    }
    at::Tensor out = outs.size() == 1 ? outs[0] : at::cat(outs, 2);
    return quant_per_chunk ? out : model.quant_conv->forward(out);
}

// blend_v / blend_h: b's first e rows (columns) become a's last e * (1 - y/e) + b * (y/e), the
// weights computed in double and applied as scalars, b mutated in place as the reference does.
void blend_v(const at::Tensor &a, at::Tensor &b, int64_t extent) {
    const int64_t e = std::min({a.size(3), b.size(3), extent});
    for (int64_t y = 0; y < e; ++y) {
        const double w = static_cast<double>(y) / static_cast<double>(e);
        at::Tensor row = b.select(3, y);
        row.copy_(a.select(3, a.size(3) - e + y) * (1.0 - w) + row * w);
    }
}

void blend_h(const at::Tensor &a, at::Tensor &b, int64_t extent) {
    const int64_t e = std::min({a.size(4), b.size(4), extent});
    for (int64_t x = 0; x < e; ++x) {
        const double w = static_cast<double>(x) / static_cast<double>(e);
        at::Tensor col = b.select(4, x);
        col.copy_(a.select(4, a.size(4) - e + x) * (1.0 - w) + col * w);
    }
}

struct encode_geometry {
    int64_t ratio;                  // spatial compression of the patchified input
    int64_t min_h, min_w;           // tile size in latent pixels
    int64_t stride_h, stride_w;     // tile stride in latent pixels
};

encode_geometry geometry(const vae_config &cfg, const tiling_options &t) {
    auto need = [](bool ok, const std::string &what) {
        if (!ok) throw std::invalid_argument("wan_vae tiled encode: " + what);
    };
    need(t.tile_sample_min_height > 0 && t.tile_sample_min_width > 0, "tile_sample_min_height/width must be > 0");
    need(t.tile_sample_stride_height > 0 && t.tile_sample_stride_width > 0,
         "tile_sample_stride_height/width must be > 0");
    need(t.tile_sample_stride_height <= t.tile_sample_min_height && t.tile_sample_stride_width <= t.tile_sample_min_width,
         "tile_sample_stride must not exceed tile_sample_min (tiles would leave gaps)");
    need(cfg.scale_factor_spatial % cfg.patch_size == 0, "scale_factor_spatial must be a multiple of patch_size");
    encode_geometry g{};
    g.ratio = cfg.scale_factor_spatial / cfg.patch_size;
    g.min_h = t.tile_sample_min_height / g.ratio;
    g.min_w = t.tile_sample_min_width / g.ratio;
    g.stride_h = t.tile_sample_stride_height / g.ratio;
    g.stride_w = t.tile_sample_stride_width / g.ratio;
    need(g.min_h > 0 && g.min_w > 0 && g.stride_h > 0 && g.stride_w > 0,
         "tile sizes and strides must be at least scale_factor_spatial / patch_size = " + std::to_string(g.ratio) +
             " pixels");
    return g;
}

bool uses_encode_tiling(const decode_options &options, int64_t height, int64_t width) {
    // Compared with the input size before patchify, as diffusers' _encode does.
    return options.use_tiling &&
           (width > options.tiling.tile_sample_min_width || height > options.tiling.tile_sample_min_height);
}

// x is patchified: tiles and strides are taken in its pixels (diffusers' tiled_encode).
at::Tensor tiled_encode(const vae_module &model, const vae_config &cfg, const at::Tensor &x,
                        const tiling_options &t, progress_counter &progress) {
    const encode_geometry g = geometry(cfg, t);
    const int64_t height = x.size(3), width = x.size(4);
    std::vector<std::vector<at::Tensor>> rows;
    for (int64_t i = 0; i < height; i += t.tile_sample_stride_height) {
        std::vector<at::Tensor> row;
        for (int64_t j = 0; j < width; j += t.tile_sample_stride_width) {
            at::Tensor tile = x.slice(3, i, i + t.tile_sample_min_height).slice(4, j, j + t.tile_sample_min_width);
            row.push_back(encode_chunks(model, tile, /*quant_per_chunk=*/true, progress));
        }
        rows.push_back(std::move(row));
    }
    const int64_t blend_height = g.min_h - g.stride_h, blend_width = g.min_w - g.stride_w;
    std::vector<at::Tensor> result_rows;
    for (size_t i = 0; i < rows.size(); ++i) {
        std::vector<at::Tensor> result_row;
        for (size_t j = 0; j < rows[i].size(); ++j) {
            at::Tensor &tile = rows[i][j];
            if (i > 0) blend_v(rows[i - 1][j], tile, blend_height);
            if (j > 0) blend_h(rows[i][j - 1], tile, blend_width);
            result_row.push_back(tile.slice(3, 0, g.stride_h).slice(4, 0, g.stride_w));
        }
        result_rows.push_back(at::cat(result_row, -1));
    }
    return at::cat(result_rows, 3).slice(3, 0, height / g.ratio).slice(4, 0, width / g.ratio);
}

}  // namespace

int64_t encode_chunk_count(const vae_config &cfg, const decode_options &options, int64_t frames, int64_t height,
                           int64_t width) {
    int64_t tiles = 1;
    if (uses_encode_tiling(options, height, width)) {
        geometry(cfg, options.tiling);  // validates the options
        const int64_t h = height / cfg.patch_size, w = width / cfg.patch_size;
        tiles = ((h + options.tiling.tile_sample_stride_height - 1) / options.tiling.tile_sample_stride_height) *
                ((w + options.tiling.tile_sample_stride_width - 1) / options.tiling.tile_sample_stride_width);
    }
    return tiles * chunk_count(frames);
}

at::Tensor encode_slice(const vae_module &model, const vae_config &cfg, const at::Tensor &video,
                        const decode_options &options, progress_counter &progress) {
    const bool tiled = uses_encode_tiling(options, video.size(3), video.size(4));
    const at::Tensor x = patchify(video, cfg.patch_size);
    if (tiled) return tiled_encode(model, cfg, x, options.tiling, progress);
    return encode_chunks(model, x, /*quant_per_chunk=*/false, progress);
}

}  // namespace detail

namespace {

std::string shape_string(const at::Tensor &t) {
    std::ostringstream s;
    s << '[';
    for (int64_t i = 0; i < t.dim(); ++i) s << (i ? ", " : "") << t.size(i);
    s << ']';
    return s.str();
}

void check_video_shape(const at::Tensor &t, const vae_config &cfg) {
    auto bad = [&](const std::string &what) {
        throw std::invalid_argument("wan_vae: video " + what + ", got " + (t.defined() ? shape_string(t) : "undefined"));
    };
    if (!t.defined()) bad("is undefined");
    if (t.dim() != 5) bad("must be 5-D [B, C, F, H, W]");
    const int64_t p = cfg.patch_size;
    const int64_t channels = cfg.in_channels / (p * p);
    if (channels * p * p != cfg.in_channels || t.size(1) != channels)
        bad("channel dimension (dim 1) must be in_channels / patch_size^2 = " + std::to_string(channels));
    if (t.size(0) < 1) bad("batch (dim 0) must be >= 1");
    if (t.size(2) < 1) bad("frames (dim 2) must be >= 1");
    if (t.size(3) < 1 || t.size(3) % p != 0)
        bad("height (dim 3) must be a positive multiple of patch_size = " + std::to_string(p));
    if (t.size(4) < 1 || t.size(4) % p != 0)
        bad("width (dim 4) must be a positive multiple of patch_size = " + std::to_string(p));
    if (!at::isFloatingType(t.scalar_type())) bad("must be a floating-point tensor");
}

}  // namespace

bool vae::has_encoder() const { return impl_->model->encoder != nullptr; }

int64_t vae::latent_frames(int64_t frames) const { return 1 + (frames - 1) / impl_->config.scale_factor_temporal; }

at::Tensor vae::encode_moments(const at::Tensor &video_in, const encode_options &options) const {
    if (!has_encoder())
        throw std::logic_error("wan_vae: encode() on a VAE loaded without the encoder (load_settings.with_encoder)");
    const vae_config &cfg = impl_->config;
    check_video_shape(video_in, cfg);
    at::NoGradGuard no_grad;
    const at::Tensor video = video_in.to(impl_->settings.device, impl_->settings.dtype);
    const int64_t batch = video.size(0);
    const bool sliced = options.use_slicing && batch > 1;

    detail::progress_counter progress{options};
    progress.total =
        (sliced ? batch : 1) * detail::encode_chunk_count(cfg, options, video.size(2), video.size(3), video.size(4));
    if (!sliced) return detail::encode_slice(*impl_->model, cfg, video, options, progress);
    // vae.enable_slicing(): one batch item at a time, concatenated.
    std::vector<at::Tensor> items;
    for (int64_t b = 0; b < batch; ++b)
        items.push_back(detail::encode_slice(*impl_->model, cfg, video.slice(0, b, b + 1), options, progress));
    return at::cat(items, 0);
}

at::Tensor vae::encode(const at::Tensor &video, const encode_options &options) const {
    // DiagonalGaussianDistribution.mode() is the mean half (chunk(2, dim=1)[0]).
    return encode_moments(video, options).slice(1, 0, impl_->config.z_dim).contiguous();
}

at::Tensor vae::normalize(const at::Tensor &z, c10::ScalarType dtype) const {
    const int64_t zd = impl_->config.z_dim;
    if (!z.defined() || z.dim() != 5 || z.size(1) != zd)
        throw std::invalid_argument("wan_vae: normalize needs z [B, z_dim = " + std::to_string(zd) + ", F, H, W], got " +
                                    (z.defined() ? shape_string(z) : "undefined"));
    at::NoGradGuard no_grad;
    const auto device = impl_->settings.device;
    // torch.tensor(list of floats) is float32, moved to the latents' dtype; std's reciprocal there.
    auto column = [&](const std::vector<double> &values) {
        std::vector<float> f(values.begin(), values.end());
        return at::tensor(f, at::kFloat).view({1, zd, 1, 1, 1}).to(device, dtype);
    };
    const at::Tensor mean = column(impl_->config.latents_mean);
    const at::Tensor inv_std = column(impl_->config.latents_std).reciprocal();
    return (z.to(device, dtype) - mean) * inv_std;
}

}  // namespace omnihost::models::wan_vae
