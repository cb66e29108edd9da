// Chunked causal decode (diffusers' AutoencoderKLWan._decode) and the spatially tiled decode
// (tiled_decode), for one batch slice.
//
// Same values as the reference, less memory: decoded chunks are written straight into a
// preallocated output (the reference grows it with torch.cat per chunk), unpatchify and clamp are
// applied per chunk (both are elementwise / pure permutations), and the tiled decode blends each
// tile as soon as it is decoded, keeping only the edge strips its right and lower neighbours will
// read (the reference keeps every tile until the end; its blend order and in-place mutation of
// stored tiles are reproduced exactly, see blend_rows / blend_cols).
#include "wan_vae_model.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace omnihost::models::wan_vae::detail {

namespace {

// Writes `src` (pre-unpatchify [B, C*p*p, n, h, w]) into `dst` ([B, C, n, h*p, w*p], any strides),
// as diffusers' unpatchify: channel c*p*p + pw*p + ph lands at (y*p + ph, x*p + pw), then clamps.
void write_unpatchified(at::Tensor dst, const at::Tensor &src, int64_t p) {
    if (p == 1) {
        dst.copy_(src);
    } else {
        const int64_t b = src.size(0), c = src.size(1) / (p * p), n = src.size(2), h = src.size(3),
                      w = src.size(4);
        dst.view({b, c, n, h, p, w, p}).copy_(src.view({b, c, p, p, n, h, w}).permute({0, 1, 4, 5, 3, 6, 2}));
    }
    dst.clamp_(-1.0, 1.0);
}

// Decodes latent frames one at a time through the decoder with one feature cache, as the
// reference does for a whole latent (post_quant_conv applied beforehand) or for one tile
// (post_quant_conv applied per frame). Each chunk goes to sink(chunk, first_frame_index).
template <class Sink>
void decode_frames(const vae_module &model, const at::Tensor &z, bool post_quant_per_frame,
                   progress_counter &progress, Sink &&sink) {
    const decoder3d &decoder = *model.decoder;
    feature_cache cache;
    cache.reset(decoder.cached_conv_count());
    at::Tensor x = post_quant_per_frame ? z : model.post_quant_conv->forward(z);
    int64_t frame = 0;
    for (int64_t i = 0; i < z.size(2); ++i) {
        progress.before_chunk();
        cache.cursor = 0;
        at::Tensor in = x.slice(2, i, i + 1);
        if (post_quant_per_frame) in = model.post_quant_conv->forward(in);
        at::Tensor chunk = decoder.forward(in, cache, /*first_chunk=*/i == 0);
        if (cache.cursor != cache.slots.size())
            throw std::logic_error("wan_vae: decoder used " + std::to_string(cache.cursor) + " cache slots, expected " +
                                   std::to_string(cache.slots.size()));
        sink(chunk, frame);
        frame += chunk.size(2);
        progress.after_chunk();
    }
}

int64_t expected_frames(const vae_module &model, int64_t latent_frames) {
    return 1 + model.decoder->temporal_factor() * (latent_frames - 1);
}

at::Tensor plain_decode(const vae_module &model, const vae_config &cfg, const at::Tensor &z,
                        progress_counter &progress) {
    const int64_t p = cfg.patch_size;
    const int64_t frames = expected_frames(model, z.size(2));
    at::Tensor out;
    decode_frames(model, z, /*post_quant_per_frame=*/false, progress, [&](const at::Tensor &chunk, int64_t first) {
        if (!out.defined())
            out = at::empty({chunk.size(0), chunk.size(1) / (p * p), frames, chunk.size(3) * p, chunk.size(4) * p},
                            chunk.options());
        if (first + chunk.size(2) > frames) throw std::logic_error("wan_vae: decoder produced too many frames");
        write_unpatchified(out.slice(2, first, first + chunk.size(2)), chunk, p);
    });
    return out;
}

// blend_v: for y < e, b[.., y, :] = a[.., -e + y, :] * (1 - y/e) + b[.., y, :] * (y/e), with the
// weights computed in double and applied as float scalars, as the Python code does. `a` may be
// only the last rows of the upper tile: e is limited by its height either way.
void blend_rows(const at::Tensor &a, at::Tensor &b, int64_t extent) {
    const int64_t e = std::min({a.size(3), b.size(3), extent});
    for (int64_t y = 0; y < e; ++y) {
        const double w = static_cast<double>(y) / static_cast<double>(e);
        at::Tensor row = b.select(3, y);
        row.copy_(a.select(3, a.size(3) - e + y) * (1.0 - w) + row * w);
    }
}

// blend_h: the same along the width, `a` being (the right columns of) the left tile.
void blend_cols(const at::Tensor &a, at::Tensor &b, int64_t extent) {
    const int64_t e = std::min({a.size(4), b.size(4), extent});
    for (int64_t x = 0; x < e; ++x) {
        const double w = static_cast<double>(x) / static_cast<double>(e);
        at::Tensor col = b.select(4, x);
        col.copy_(a.select(4, a.size(4) - e + x) * (1.0 - w) + col * w);
    }
}

struct tile_geometry {
    int64_t latent_min_h, latent_min_w;        // tile size in latent pixels
    int64_t latent_stride_h, latent_stride_w;  // tile stride in latent pixels
    int64_t kept_h, kept_w;                    // part of each blended tile kept (decoder-output pixels)
    int64_t blend_h, blend_w;                  // blend extents (decoder-output pixels)
    int64_t sample_h, sample_w;                // final size in decoder-output pixels (pre-unpatchify)
};

tile_geometry geometry(const vae_config &cfg, const tiling_options &t, int64_t height, int64_t width) {
    const int64_t s = cfg.scale_factor_spatial, p = cfg.patch_size;
    auto need = [](bool ok, const std::string &what) {
        if (!ok) throw std::invalid_argument("wan_vae tiling: " + what);
    };
    need(t.tile_sample_min_height > 0 && t.tile_sample_min_width > 0, "tile_sample_min_height/width must be > 0");
    need(t.tile_sample_stride_height > 0 && t.tile_sample_stride_width > 0,
         "tile_sample_stride_height/width must be > 0");
    need(t.tile_sample_stride_height <= t.tile_sample_min_height && t.tile_sample_stride_width <= t.tile_sample_min_width,
         "tile_sample_stride must not exceed tile_sample_min (tiles would leave gaps)");
    tile_geometry g{};
    g.latent_min_h = t.tile_sample_min_height / s;
    g.latent_min_w = t.tile_sample_min_width / s;
    g.latent_stride_h = t.tile_sample_stride_height / s;
    g.latent_stride_w = t.tile_sample_stride_width / s;
    need(g.latent_min_h > 0 && g.latent_min_w > 0 && g.latent_stride_h > 0 && g.latent_stride_w > 0,
         "tile sizes and strides must be at least scale_factor_spatial = " + std::to_string(s) + " pixels");
    // Wan2.2 blends before unpatchify, so every extent is in p-times smaller decoder pixels.
    g.sample_h = height * s / p;
    g.sample_w = width * s / p;
    g.kept_h = t.tile_sample_stride_height / p;
    g.kept_w = t.tile_sample_stride_width / p;
    g.blend_h = t.tile_sample_min_height / p - g.kept_h;
    g.blend_w = t.tile_sample_min_width / p - g.kept_w;
    return g;
}

at::Tensor tiled_decode(const vae_module &model, const vae_config &cfg, const at::Tensor &z,
                        const tiling_options &tiling, progress_counter &progress) {
    const int64_t p = cfg.patch_size;
    const int64_t height = z.size(3), width = z.size(4);
    const tile_geometry g = geometry(cfg, tiling, height, width);
    const int64_t frames = expected_frames(model, z.size(2));

    at::Tensor out;                    // [B, C, F', H*s, W*s]
    std::vector<at::Tensor> above;     // per column: bottom rows of the previous row's tile, blended
    int64_t out_row = 0;               // decoder-pixel offset of this tile row in the result
    for (int64_t i = 0; i < height; i += g.latent_stride_h) {
        std::vector<at::Tensor> below;  // what this row leaves for the next one
        at::Tensor left;                // right columns of the previous tile in this row, blended
        int64_t out_col = 0, row_kept = 0;
        size_t column = 0;
        for (int64_t j = 0; j < width; j += g.latent_stride_w, ++column) {
            at::Tensor latent_tile = z.slice(3, i, i + g.latent_min_h).slice(4, j, j + g.latent_min_w);
            at::Tensor tile;
            decode_frames(model, latent_tile, /*post_quant_per_frame=*/true, progress,
                          [&](const at::Tensor &chunk, int64_t first) {
                              if (!tile.defined())
                                  tile = at::empty({chunk.size(0), chunk.size(1), frames, chunk.size(3), chunk.size(4)},
                                                   chunk.options());
                              if (first + chunk.size(2) > frames)
                                  throw std::logic_error("wan_vae: decoder produced too many frames");
                              tile.slice(2, first, first + chunk.size(2)).copy_(chunk);
                          });
            // Blend in the reference's order: with the tile above, then with the tile to the left,
            // each already blended with its own neighbours.
            if (i > 0 && g.blend_h > 0) blend_rows(above.at(column), tile, g.blend_h);
            if (j > 0 && g.blend_w > 0) blend_cols(left, tile, g.blend_w);
            below.push_back(g.blend_h > 0 ? tile.slice(3, tile.size(3) - std::min(tile.size(3), g.blend_h)).clone()
                                          : at::Tensor());
            left = g.blend_w > 0 ? tile.slice(4, tile.size(4) - std::min(tile.size(4), g.blend_w)).clone()
                                 : at::Tensor();

            at::Tensor kept = tile.slice(3, 0, g.kept_h).slice(4, 0, g.kept_w);
            if (!out.defined())
                out = at::empty({tile.size(0), tile.size(1) / (p * p), frames, g.sample_h * p, g.sample_w * p},
                                tile.options());
            // Crop to the final size as the reference does after concatenating.
            const int64_t h = std::min(kept.size(3), g.sample_h - out_row);
            const int64_t w = std::min(kept.size(4), g.sample_w - out_col);
            if (h > 0 && w > 0)
                write_unpatchified(out.slice(3, out_row * p, (out_row + h) * p).slice(4, out_col * p, (out_col + w) * p),
                                   kept.slice(3, 0, h).slice(4, 0, w), p);
            out_col += kept.size(4);
            row_kept = kept.size(3);
        }
        if (out_col < g.sample_w) throw std::logic_error("wan_vae: tiles do not cover the width");
        above = std::move(below);
        out_row += row_kept;
    }
    if (out_row < g.sample_h) throw std::logic_error("wan_vae: tiles do not cover the height");
    return out;
}

}  // namespace

bool uses_tiling(const vae_config &cfg, const decode_options &options, int64_t height, int64_t width) {
    if (!options.use_tiling) return false;
    const int64_t s = cfg.scale_factor_spatial;
    return width > options.tiling.tile_sample_min_width / s || height > options.tiling.tile_sample_min_height / s;
}

int64_t tile_count(const vae_config &cfg, const tiling_options &tiling, int64_t height, int64_t width) {
    const tile_geometry g = geometry(cfg, tiling, height, width);
    return ((height + g.latent_stride_h - 1) / g.latent_stride_h) * ((width + g.latent_stride_w - 1) / g.latent_stride_w);
}

at::Tensor decode_slice(const vae_module &model, const vae_config &cfg, const at::Tensor &z,
                        const decode_options &options, progress_counter &progress) {
    if (uses_tiling(cfg, options, z.size(3), z.size(4))) return tiled_decode(model, cfg, z, options.tiling, progress);
    return plain_decode(model, cfg, z, progress);
}

}  // namespace omnihost::models::wan_vae::detail
