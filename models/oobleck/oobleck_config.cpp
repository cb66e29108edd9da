// AutoencoderOobleck config.json parsing (core/config.h rules: unknown keys ignored, missing keys
// and nulls take diffusers' defaults, integers stored as floats accepted).
#include "oobleck_vae.h"

#include "core/config.h"
#include "core/safetensors.h"

namespace omnihost::models::oobleck {
namespace {

constexpr int64_t max_channels = 1 << 14;
constexpr int64_t max_ratio = 64;

[[noreturn]] void fail(const json_config &j, const std::string &key, const std::string &why) {
    throw model_error(j.origin() + ": key '" + key + "' " + why);
}

int64_t positive(const json_config &j, const std::string &key, int64_t fallback, int64_t max) {
    const int64_t v = j.get_int(key, fallback);
    if (v < 1 || v > max) fail(j, key, "must be in [1, " + std::to_string(max) + "], got " + std::to_string(v));
    return v;
}

}  // namespace

int64_t oobleck_config::hop_length() const {
    int64_t h = 1;
    for (int64_t r : downsampling_ratios) h *= r;
    return h;
}

oobleck_config oobleck_config::from_json(const json_config &j) {
    oobleck_config c;
    c.encoder_hidden_size = positive(j, "encoder_hidden_size", c.encoder_hidden_size, max_channels);
    c.downsampling_ratios = j.get_int_list("downsampling_ratios", c.downsampling_ratios);
    c.channel_multiples = j.get_int_list("channel_multiples", c.channel_multiples);
    c.decoder_channels = positive(j, "decoder_channels", c.decoder_channels, max_channels);
    c.decoder_input_channels = positive(j, "decoder_input_channels", c.decoder_input_channels, max_channels);
    c.audio_channels = positive(j, "audio_channels", c.audio_channels, 64);
    c.sampling_rate = positive(j, "sampling_rate", c.sampling_rate, 1 << 24);
    if (c.downsampling_ratios.empty() || c.downsampling_ratios.size() > 16)
        fail(j, "downsampling_ratios", "must hold 1..16 values");
    for (int64_t r : c.downsampling_ratios)
        if (r < 1 || r > max_ratio) fail(j, "downsampling_ratios", "holds " + std::to_string(r) + " (allowed 1.." + std::to_string(max_ratio) + ")");
    if (c.channel_multiples.size() != c.downsampling_ratios.size())
        fail(j, "channel_multiples", "must have as many values as downsampling_ratios");
    for (int64_t m : c.channel_multiples)
        if (m < 1 || m * c.decoder_channels > max_channels)
            fail(j, "channel_multiples", "holds " + std::to_string(m) + ", out of range");
    return c;
}

oobleck_config oobleck_config::from_file(const std::filesystem::path &config_json) {
    return from_json(json_config::load(config_json));
}

}  // namespace omnihost::models::oobleck
