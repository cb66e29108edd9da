// omnihost-make-demo-model <dir> [--seed N] [--flow-shift X] [--ti2v | --i2v | --stable-audio [--sample-size N]]
// Writes a tiny RANDOM-weight model in diffusers layout into <dir>: Wan2.1 text-to-video by
// default, Wan2.2 TI2V-5B-shaped text/image-to-video with --ti2v, image-to-video (image required,
// concat conditioning) with --i2v, Stable Audio Open text-to-audio with --stable-audio.
#include "demo_model.h"
#include "demo_stable_audio.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace {

const char *kUsage =
    "usage: %s <output dir> [--seed N] [--flow-shift X] [--ti2v | --i2v | --stable-audio [--sample-size N]]\n"
    "Writes a tiny model with RANDOM weights in diffusers layout (for demos and tests; its output\n"
    "is noise): Wan2.1 text-to-video by default; with --ti2v a Wan2.2 TI2V-5B-shaped text/image-to-\n"
    "video model (expand_timesteps, Wan2.2 VAE with z_dim 48; the VAE is a designed box filter so an\n"
    "input image comes back as the first frame at 1/16 resolution; sizes multiples of 32); or with\n"
    "--stable-audio a Stable Audio Open-shaped text-to-audio model (44.1 kHz stereo; --sample-size\n"
    "sets the latent length, 2048 samples each); or with --i2v an image-to-video model that needs an\n"
    "input image (diffusers' WanImageToVideoPipeline without image encoder, in_channels 36).\n";

}  // namespace

int main(int argc, char **argv) {
    omnihost::tools::demo_model_options options;
    omnihost::tools::demo_stable_audio_options audio;
    bool stable_audio = false;
    bool ti2v = false;
    bool i2v = false;
    std::string dir;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--seed" && i + 1 < argc) {
            options.seed = audio.seed = std::strtoull(argv[++i], nullptr, 10);
        } else if (a == "--flow-shift" && i + 1 < argc) {
            options.flow_shift = std::strtod(argv[++i], nullptr);
        } else if (a == "--ti2v") {
            ti2v = true;
        } else if (a == "--i2v") {
            i2v = true;
        } else if (a == "--stable-audio") {
            stable_audio = true;
        } else if (a == "--sample-size" && i + 1 < argc) {
            audio.transformer.sample_size = std::atoi(argv[++i]);
            if (audio.transformer.sample_size < 1) {
                std::fprintf(stderr, "--sample-size must be >= 1\n");
                return 2;
            }
        } else if (a == "-h" || a == "--help") {
            std::printf(kUsage, argv[0]);
            return 0;
        } else if (dir.empty() && a.rfind("--", 0) != 0) {
            dir = a;
        } else {
            std::fprintf(stderr, "unknown argument: %s (see --help)\n", a.c_str());
            return 2;
        }
    }
    if (dir.empty()) {
        std::fprintf(stderr, kUsage, argv[0]);
        return 2;
    }
    if (ti2v || i2v) {
        const omnihost::tools::demo_model_options defaults;
        const uint64_t seed = options.seed;
        const double shift = options.flow_shift;
        options = ti2v ? omnihost::tools::ti2v_demo_options() : omnihost::tools::i2v_demo_options();
        options.seed = seed;
        if (shift != defaults.flow_shift) options.flow_shift = shift;
    }
    try {
        if (stable_audio) omnihost::tools::write_demo_stable_audio_model(dir, audio);
        else omnihost::tools::write_demo_model(dir, options);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "omnihost-make-demo-model: %s\n", e.what());
        return 1;
    }
    if (stable_audio)
        std::printf("wrote Stable Audio demo model (random weights, seed %llu, up to %.2f s at 44.1 kHz) to %s\n",
                    static_cast<unsigned long long>(audio.seed), omnihost::tools::demo_stable_audio_max_seconds(audio),
                    dir.c_str());
    else
        std::printf(ti2v  ? "wrote TI2V demo model (random transformer, box-filter VAE, seed %llu) to %s\n"
                    : i2v ? "wrote I2V demo model (random weights, image required, seed %llu) to %s\n"
                          : "wrote demo model (random weights, seed %llu) to %s\n",
                    static_cast<unsigned long long>(options.seed), dir.c_str());
    return 0;
}
