// AutoencoderKLWan config.json parsing (on top of core/config.h's rules: unknown keys ignored,
// missing keys and nulls take diffusers' __init__ defaults = the Wan2.1 VAE, integers may be floats).
#include "wan_vae.h"

#include "core/config.h"
#include "core/safetensors.h"

#include <algorithm>
#include <cstdint>

namespace omnihost::models::wan_vae {

namespace {

const std::vector<double> wan21_latents_mean{-0.7571, -0.7089, -0.9113, 0.1075,  -0.1745, 0.9653,
                                             -0.1517, 1.5508,  0.4134,  -0.0715, 0.5517,  -0.3632,
                                             -0.1922, -0.9497, 0.2503,  -0.2921};
const std::vector<double> wan21_latents_std{2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
                                            3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160};

[[noreturn]] void fail(const json_config &j, const std::string &key, const std::string &why) {
    throw model_error(j.origin() + ": key '" + key + "' " + why);
}

int get_int(const json_config &j, const std::string &key, int fallback) {
    const int64_t v = j.get_int(key, fallback);
    if (v < INT32_MIN || v > INT32_MAX) fail(j, key, "is out of range");
    return static_cast<int>(v);
}

std::vector<bool> get_bool_list(const json_config &j, const std::string &key, std::vector<bool> fallback) {
    if (!j.has(key)) return fallback;
    const auto &v = j.raw().at(key);
    if (!v.is_array()) fail(j, key, "must be a list of booleans");
    std::vector<bool> out;
    for (const auto &e : v) {
        if (!e.is_boolean()) fail(j, key, "must be a list of booleans, got " + e.dump());
        out.push_back(e.get<bool>());
    }
    return out;
}

}  // namespace

vae_config vae_config::from_json(const json_config &j) {
    vae_config c;
    c.base_dim = get_int(j, "base_dim", 96);
    c.decoder_base_dim = get_int(j, "decoder_base_dim", c.base_dim);  // null -> base_dim
    c.z_dim = get_int(j, "z_dim", 16);
    c.dim_mult.clear();
    for (int64_t m : j.get_int_list("dim_mult", {1, 2, 4, 4})) {
        if (m <= 0) fail(j, "dim_mult", "must be positive, got " + std::to_string(m));
        if (m > config_bounds::max_channels) fail(j, "dim_mult", "holds " + std::to_string(m) + ", far too large");
        c.dim_mult.push_back(static_cast<int>(m));
    }
    c.num_res_blocks = get_int(j, "num_res_blocks", 2);
    c.temperal_downsample = get_bool_list(j, "temperal_downsample", {false, true, true});
    c.is_residual = j.get_bool("is_residual", false);
    c.in_channels = get_int(j, "in_channels", 3);
    c.out_channels = get_int(j, "out_channels", 3);
    c.patch_size = get_int(j, "patch_size", 1);  // null -> no patching
    c.scale_factor_temporal = get_int(j, "scale_factor_temporal", 4);
    c.scale_factor_spatial = get_int(j, "scale_factor_spatial", 8);
    c.latents_mean = j.get_double_list("latents_mean", wan21_latents_mean);
    c.latents_std = j.get_double_list("latents_std", wan21_latents_std);

    auto positive = [&](const char *key, int v) {
        if (v <= 0) fail(j, key, "must be positive, got " + std::to_string(v));
    };
    // Upper bounds: the config is untrusted and these sizes become allocations and loop counts.
    using b = config_bounds;
    auto at_most = [&](const char *key, int64_t v, int64_t hi) {
        if (v > hi) fail(j, key, "is " + std::to_string(v) + ", above the supported limit " + std::to_string(hi));
    };
    at_most("base_dim", c.base_dim, b::max_channels);
    at_most("decoder_base_dim", c.decoder_base_dim, b::max_channels);
    at_most("z_dim", c.z_dim, b::max_channels);
    at_most("in_channels", c.in_channels, b::max_channels);
    at_most("out_channels", c.out_channels, b::max_channels);
    at_most("num_res_blocks", c.num_res_blocks, 64);
    at_most("patch_size", c.patch_size, b::max_patch);
    at_most("scale_factor_temporal", c.scale_factor_temporal, b::max_patch);
    at_most("scale_factor_spatial", c.scale_factor_spatial, b::max_patch);
    if (c.dim_mult.size() > 16) fail(j, "dim_mult", "has " + std::to_string(c.dim_mult.size()) + " entries (limit 16)");
    for (int m : c.dim_mult)
        if (int64_t(m) * std::max(c.base_dim, c.decoder_base_dim) > b::max_channels)
            fail(j, "dim_mult", "entry " + std::to_string(m) + " times base_dim makes a layer wider than " +
                                    std::to_string(b::max_channels) + " channels");
    positive("base_dim", c.base_dim);
    positive("decoder_base_dim", c.decoder_base_dim);
    positive("z_dim", c.z_dim);
    positive("out_channels", c.out_channels);
    positive("patch_size", c.patch_size);
    positive("scale_factor_spatial", c.scale_factor_spatial);
    positive("scale_factor_temporal", c.scale_factor_temporal);
    positive("in_channels", c.in_channels);
    if (c.num_res_blocks < 0) fail(j, "num_res_blocks", "must not be negative");
    if (c.dim_mult.empty()) fail(j, "dim_mult", "must not be empty");
    for (int m : c.dim_mult) positive("dim_mult", m);
    if (c.temperal_downsample.size() + 1 != c.dim_mult.size())
        fail(j, "temperal_downsample", "must have len(dim_mult) - 1 = " + std::to_string(c.dim_mult.size() - 1) +
                                           " entries, has " + std::to_string(c.temperal_downsample.size()));
    if (static_cast<int>(c.latents_mean.size()) != c.z_dim)
        fail(j, "latents_mean", "must have z_dim = " + std::to_string(c.z_dim) + " values, has " +
                                    std::to_string(c.latents_mean.size()));
    if (static_cast<int>(c.latents_std.size()) != c.z_dim)
        fail(j, "latents_std", "must have z_dim = " + std::to_string(c.z_dim) + " values, has " +
                                   std::to_string(c.latents_std.size()));
    for (double s : c.latents_std)
        if (s == 0.0) fail(j, "latents_std", "must not contain 0");
    if (c.out_channels % (c.patch_size * c.patch_size) != 0)
        fail(j, "out_channels", "must be divisible by patch_size^2");
    return c;
}

vae_config vae_config::from_json_text(const std::string &json_text, const std::string &origin) {
    return from_json(json_config::parse(json_text, origin));
}

vae_config vae_config::from_file(const std::filesystem::path &config_json) {
    return from_json(json_config::load(config_json));
}

}  // namespace omnihost::models::wan_vae
