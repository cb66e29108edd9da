#include "clip_vision/clip_image_processor.h"

#include "core/config.h"
#include "core/model_error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace omnihost::models {
namespace {

// ---- Pillow's resampling (libImaging/Resample.c), 8 bits per channel ----

constexpr int precision_bits = 32 - 8 - 2;

double bicubic_filter(double x) {
    constexpr double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}
constexpr double bicubic_support = 2.0;

double sinc_filter(double x) {
    if (x == 0.0) return 1.0;
    x = x * 3.14159265358979323846;  // M_PI, as Pillow
    return std::sin(x) / x;
}

// Pillow's LANCZOS: sinc truncated to [-3, 3) and windowed by sinc(x / 3).
double lanczos_filter(double x) {
    if (-3.0 <= x && x < 3.0) return sinc_filter(x) * sinc_filter(x / 3);
    return 0.0;
}
constexpr double lanczos_support = 3.0;

struct filter_def {
    double (*fn)(double);
    double support;
};

filter_def filter_for(pil_filter f) {
    return f == pil_filter::lanczos ? filter_def{lanczos_filter, lanczos_support} : filter_def{bicubic_filter, bicubic_support};
}

// One output position's source span and fixed-point weights.
struct coeffs {
    int64_t ksize = 0;
    std::vector<int64_t> first, count;  // per output index
    std::vector<int32_t> k;             // [out, ksize]
};

coeffs precompute(int64_t in_size, int64_t out_size, const filter_def &filter) {
    // Pillow computes the box edges in float and the rest in double; with the whole image as the
    // box, in0 = 0 and in1 = in_size exactly.
    const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
    const double filterscale = scale < 1.0 ? 1.0 : scale;  // antialias: widen the filter when shrinking
    const double support = filter.support * filterscale;
    coeffs c;
    c.ksize = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
    c.first.resize(out_size);
    c.count.resize(out_size);
    c.k.assign(out_size * c.ksize, 0);
    std::vector<double> w(c.ksize);
    for (int64_t xx = 0; xx < out_size; ++xx) {
        const double center = (xx + 0.5) * scale;
        const double ss = 1.0 / filterscale;
        // (int) truncates toward zero, as in C.
        int64_t xmin = static_cast<int64_t>(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int64_t xmax = static_cast<int64_t>(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double ww = 0.0;
        for (int64_t x = 0; x < xmax; ++x) {
            w[x] = filter.fn((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        for (int64_t x = 0; x < xmax; ++x) {
            const double v = ww != 0.0 ? w[x] / ww : w[x];
            // normalize_coeffs_8bpc: round half away from zero to 22 fractional bits.
            c.k[xx * c.ksize + x] = v < 0 ? static_cast<int32_t>(-0.5 + v * (1 << precision_bits))
                                          : static_cast<int32_t>(0.5 + v * (1 << precision_bits));
        }
        c.first[xx] = xmin;
        c.count[xx] = xmax;
    }
    return c;
}

inline uint8_t clip8(int64_t in) {
    if (in >= (int64_t{1} << precision_bits << 8)) return 255;
    if (in <= 0) return 0;
    return static_cast<uint8_t>(in >> precision_bits);
}

// Resamples along one axis of a [rows, cols, ch] uint8 buffer: `horizontal` along cols. The sums
// are Pillow's: start at half a unit, add pixel * weight in integers, then clip8.
std::vector<uint8_t> resample_axis(const std::vector<uint8_t> &in, int64_t rows, int64_t cols, int64_t ch,
                                   const coeffs &c, int64_t out_len, bool horizontal) {
    const int64_t out_rows = horizontal ? rows : out_len;
    const int64_t out_cols = horizontal ? out_len : cols;
    std::vector<uint8_t> out(out_rows * out_cols * ch);
    const int64_t half = int64_t{1} << (precision_bits - 1);
    if (horizontal) {
        for (int64_t r = 0; r < rows; ++r) {
            const uint8_t *row = &in[r * cols * ch];
            for (int64_t o = 0; o < out_len; ++o) {
                const int32_t *k = &c.k[o * c.ksize];
                int64_t acc[4] = {half, half, half, half};
                const uint8_t *px = row + c.first[o] * ch;
                for (int64_t i = 0; i < c.count[o]; ++i, px += ch)
                    for (int64_t p = 0; p < ch; ++p) acc[p] += static_cast<int64_t>(px[p]) * k[i];
                for (int64_t p = 0; p < ch; ++p) out[(r * out_len + o) * ch + p] = clip8(acc[p]);
            }
        }
        return out;
    }
    // Vertical: whole source rows at a time (contiguous, vectorisable).
    const int64_t width = cols * ch;
    std::vector<int64_t> acc(width);
    for (int64_t o = 0; o < out_len; ++o) {
        std::fill(acc.begin(), acc.end(), half);
        const int32_t *k = &c.k[o * c.ksize];
        for (int64_t i = 0; i < c.count[o]; ++i) {
            const uint8_t *row = &in[(c.first[o] + i) * width];
            const int64_t w = k[i];
            for (int64_t j = 0; j < width; ++j) acc[j] += static_cast<int64_t>(row[j]) * w;
        }
        uint8_t *dst = &out[o * width];
        for (int64_t j = 0; j < width; ++j) dst[j] = clip8(acc[j]);
    }
    return out;
}

// ---- preprocessor_config.json ----


int64_t dim_in(const json_config &cfg, const std::string &key, const nlohmann::json &v) {
    if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())) {
        throw model_error(cfg.origin() + ": key '" + key + "' must be an integer");
    }
    const double d = v.get<double>();
    if (d < 1 || d > static_cast<double>(clip_max_image_side)) {
        throw model_error(cfg.origin() + ": key '" + key + "' is " + std::to_string(d) +
                          ", outside the supported range [1, " + std::to_string(clip_max_image_side) + "]");
    }
    return static_cast<int64_t>(d);
}

std::array<double, 3> triple(const json_config &cfg, const std::string &key, const std::array<double, 3> &fallback,
                             bool positive) {
    const auto v = cfg.get_double_list(key, {fallback.begin(), fallback.end()});
    if (v.size() != 3) throw model_error(cfg.origin() + ": key '" + key + "' must list 3 values (RGB)");
    for (const double x : v) {
        if (!std::isfinite(x) || std::fabs(x) > 1e6 || (positive && !(x > 0))) {
            throw model_error(cfg.origin() + ": key '" + key + "' has an out-of-range value " + std::to_string(x));
        }
    }
    return {v[0], v[1], v[2]};
}

clip_image_processor_config parse(const json_config &cfg) {
    clip_image_processor_config c;
    const auto &raw = cfg.raw();
    if (cfg.has("image_processor_type")) {
        const auto type = cfg.get_string("image_processor_type", "");
        if (type != "CLIPImageProcessor" && type != "CLIPImageProcessorFast" && type != "CLIPImageProcessorPil") {
            throw model_error(cfg.origin() + ": key 'image_processor_type' is '" + type +
                              "'; only CLIPImageProcessor is supported");
        }
    }
    // PILImageResampling.BICUBIC; the others would need their own filters.
    if (cfg.has("resample") && cfg.get_int("resample", 3) != 3) {
        throw model_error(cfg.origin() + ": key 'resample' is " + std::to_string(cfg.get_int("resample", 3)) +
                          "; only 3 (bicubic) is supported");
    }
    c.do_resize = cfg.get_bool("do_resize", c.do_resize);
    if (cfg.has("size")) {
        const auto &s = raw.at("size");
        if (s.is_number()) {
            c.shortest_edge = dim_in(cfg, "size", s);
        } else if (s.is_object() && s.contains("shortest_edge") && s.size() == 1) {
            c.shortest_edge = dim_in(cfg, "size.shortest_edge", s.at("shortest_edge"));
        } else {
            throw model_error(cfg.origin() + ": key 'size' must be {\"shortest_edge\": N} (other resize modes are not supported)");
        }
    }
    c.do_center_crop = cfg.get_bool("do_center_crop", c.do_center_crop);
    if (cfg.has("crop_size")) {
        const auto &s = raw.at("crop_size");
        if (s.is_number()) {
            c.crop_height = c.crop_width = dim_in(cfg, "crop_size", s);
        } else if (s.is_object() && s.contains("height") && s.contains("width")) {
            c.crop_height = dim_in(cfg, "crop_size.height", s.at("height"));
            c.crop_width = dim_in(cfg, "crop_size.width", s.at("width"));
        } else {
            throw model_error(cfg.origin() + ": key 'crop_size' must be N or {\"height\": H, \"width\": W}");
        }
    }
    c.do_rescale = cfg.get_bool("do_rescale", c.do_rescale);
    c.rescale_factor = cfg.get_double("rescale_factor", c.rescale_factor);
    if (!std::isfinite(c.rescale_factor) || !(c.rescale_factor > 0) || c.rescale_factor > 1e6) {
        throw model_error(cfg.origin() + ": key 'rescale_factor' is out of range");
    }
    c.do_normalize = cfg.get_bool("do_normalize", c.do_normalize);
    c.image_mean = triple(cfg, "image_mean", c.image_mean, false);
    c.image_std = triple(cfg, "image_std", c.image_std, true);
    return c;
}

// transformers' get_resize_output_image_size(default_to_square=False): the short side becomes
// `edge`, the long side int(edge * long / short) (Python float math, truncated).
std::pair<int64_t, int64_t> shortest_edge_size(int64_t h, int64_t w, int64_t edge) {
    const bool w_short = w <= h;
    const int64_t shorter = w_short ? w : h;
    const int64_t longer = w_short ? h : w;
    const auto new_long = static_cast<int64_t>(static_cast<double>(edge) * static_cast<double>(longer) /
                                               static_cast<double>(shorter));
    return w_short ? std::pair{new_long, edge} : std::pair{edge, new_long};
}

}  // namespace

clip_image_processor_config clip_image_processor_config::from_json_file(const std::filesystem::path &file) {
    return parse(json_config::load(file));
}

clip_image_processor_config clip_image_processor_config::from_json_text(const std::string &text,
                                                                        const std::string &origin) {
    return parse(json_config::parse(text, origin));
}

at::Tensor pil_bicubic_resize(const at::Tensor &image_u8, int64_t out_h, int64_t out_w) {
    return pil_resize(image_u8, out_h, out_w, pil_filter::bicubic);
}

at::Tensor pil_resize(const at::Tensor &image_u8, int64_t out_h, int64_t out_w, pil_filter f) {
    const std::string what = f == pil_filter::lanczos ? "lanczos resize" : "bicubic resize";
    if (image_u8.dim() != 3 || image_u8.scalar_type() != at::kByte || image_u8.size(2) < 1 || image_u8.size(2) > 4) {
        throw model_error(what + ": image must be [H, W, C] uint8 with 1..4 channels");
    }
    if (out_h < 1 || out_w < 1 || out_h > clip_max_image_side || out_w > clip_max_image_side) {
        throw model_error(what + ": output size " + std::to_string(out_h) + "x" + std::to_string(out_w) +
                          " outside [1, " + std::to_string(clip_max_image_side) + "]");
    }
    const auto src = image_u8.to(at::kCPU).contiguous();
    const int64_t h = src.size(0), w = src.size(1), ch = src.size(2);
    if (h < 1 || w < 1) throw model_error(what + ": empty image");
    const filter_def filter = filter_for(f);
    std::vector<uint8_t> buf(src.data_ptr<uint8_t>(), src.data_ptr<uint8_t>() + src.numel());
    int64_t cur_w = w, cur_h = h;
    const auto horizontal_pass = [&] {
        buf = resample_axis(buf, cur_h, cur_w, ch, precompute(w, out_w, filter), out_w, /*horizontal=*/true);
        cur_w = out_w;
    };
    const auto vertical_pass = [&] {
        buf = resample_axis(buf, cur_h, cur_w, ch, precompute(h, out_h, filter), out_h, /*horizontal=*/false);
        cur_h = out_h;
    };
    // ImagingResampleInner runs each pass only when its size changes, and the two passes in an
    // order chosen for speed: vertical first when the height shrinks by more than twice what the
    // width shrinks. The 8-bit rounding between the passes makes the order visible in the pixels.
    const bool horizontal_first = !(h - out_h > 0 && h - out_h > (w - out_w) * 2);
    if (horizontal_first) {
        if (out_w != w) horizontal_pass();
        if (out_h != h) vertical_pass();
    } else {
        if (out_h != h) vertical_pass();
        if (out_w != w) horizontal_pass();
    }
    return at::from_blob(buf.data(), {cur_h, cur_w, ch}, at::kByte).clone();
}

at::Tensor clip_preprocess(const at::Tensor &image, const clip_image_processor_config &cfg) {
    if (!image.defined() || image.dim() != 3 || image.size(2) != 3) {
        throw model_error("CLIP image preprocessing: image must be [height, width, 3] (RGB)");
    }
    const int64_t h = image.size(0), w = image.size(1);
    if (h < 1 || w < 1 || h > clip_max_image_side || w > clip_max_image_side) {
        throw model_error("CLIP image preprocessing: image size " + std::to_string(h) + "x" + std::to_string(w) +
                          " outside [1, " + std::to_string(clip_max_image_side) + "] per side");
    }
    at::Tensor u8;
    if (image.scalar_type() == at::kByte) {
        u8 = image.to(at::kCPU);
    } else if (at::isFloatingType(image.scalar_type())) {
        const auto f = image.to(at::kCPU, at::kDouble);
        if (!f.isfinite().all().item<bool>() || f.min().item<double>() < 0.0 || f.max().item<double>() > 255.0) {
            throw model_error("CLIP image preprocessing: a float image must hold values in [0, 255]");
        }
        u8 = f.round().to(at::kByte);
    } else {
        throw model_error("CLIP image preprocessing: image dtype must be uint8 or floating");
    }

    if (cfg.do_resize) {
        const auto [nh, nw] = shortest_edge_size(h, w, cfg.shortest_edge);
        if (nh > clip_max_image_side || nw > clip_max_image_side) {
            throw model_error("CLIP image preprocessing: a " + std::to_string(h) + "x" + std::to_string(w) +
                              " image would resize to " + std::to_string(nh) + "x" + std::to_string(nw) +
                              ", over the limit; the aspect ratio is too extreme");
        }
        // Pillow returns a copy without resampling when the size is unchanged; so does this.
        u8 = pil_bicubic_resize(u8, nh, nw);
    }

    // Channels first, then the center crop; an axis shorter than the crop is zero-padded centred
    // (ceil of half the missing pixels before), as transformers' center_crop does.
    at::Tensor chw = u8.permute({2, 0, 1});
    if (cfg.do_center_crop) {
        const int64_t ch = cfg.crop_height, cw = cfg.crop_width;
        const int64_t ih = chw.size(1), iw = chw.size(2);
        auto out = at::zeros({3, ch, cw}, at::kByte);
        const int64_t src_top = ih >= ch ? (ih - ch) / 2 : 0, dst_top = ih >= ch ? 0 : (ch - ih + 1) / 2;
        const int64_t src_left = iw >= cw ? (iw - cw) / 2 : 0, dst_left = iw >= cw ? 0 : (cw - iw + 1) / 2;
        const int64_t rows = std::min(ih, ch), cols = std::min(iw, cw);
        out.narrow(1, dst_top, rows).narrow(2, dst_left, cols).copy_(chw.narrow(1, src_top, rows).narrow(2, src_left, cols));
        chw = out;
    }

    // rescale: float64 multiply then float32 (transformers' rescale); normalise in float32.
    at::Tensor x = cfg.do_rescale ? (chw.to(at::kDouble) * cfg.rescale_factor).to(at::kFloat) : chw.to(at::kFloat);
    if (cfg.do_normalize) {
        const auto opts = at::TensorOptions().dtype(at::kFloat);
        const auto mean = at::tensor(std::vector<float>{static_cast<float>(cfg.image_mean[0]),
                                                        static_cast<float>(cfg.image_mean[1]),
                                                        static_cast<float>(cfg.image_mean[2])}, opts).view({3, 1, 1});
        const auto std_ = at::tensor(std::vector<float>{static_cast<float>(cfg.image_std[0]),
                                                        static_cast<float>(cfg.image_std[1]),
                                                        static_cast<float>(cfg.image_std[2])}, opts).view({3, 1, 1});
        x = (x - mean) / std_;
    }
    return x.unsqueeze(0).contiguous();
}

}  // namespace omnihost::models
