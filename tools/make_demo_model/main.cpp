// omnihost-make-demo-model <dir> [--seed N] [--flow-shift X]
// Writes a tiny RANDOM-weight Wan2.1 text-to-video model in diffusers layout into <dir>.
#include "demo_model.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

int main(int argc, char **argv) {
    omnihost::tools::demo_model_options options;
    std::string dir;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--seed" && i + 1 < argc) {
            options.seed = std::strtoull(argv[++i], nullptr, 10);
        } else if (a == "--flow-shift" && i + 1 < argc) {
            options.flow_shift = std::strtod(argv[++i], nullptr);
        } else if (a == "-h" || a == "--help") {
            std::printf("usage: %s <output dir> [--seed N] [--flow-shift X]\n"
                        "Writes a tiny Wan2.1 text-to-video model with RANDOM weights in diffusers "
                        "layout (for demos and tests; its videos are noise).\n", argv[0]);
            return 0;
        } else if (dir.empty() && a.rfind("--", 0) != 0) {
            dir = a;
        } else {
            std::fprintf(stderr, "unknown argument: %s (see --help)\n", a.c_str());
            return 2;
        }
    }
    if (dir.empty()) {
        std::fprintf(stderr, "usage: %s <output dir> [--seed N] [--flow-shift X]\n", argv[0]);
        return 2;
    }
    try {
        omnihost::tools::write_demo_model(dir, options);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "omnihost-make-demo-model: %s\n", e.what());
        return 1;
    }
    std::printf("wrote demo model (random weights, seed %llu) to %s\n",
                static_cast<unsigned long long>(options.seed), dir.c_str());
    return 0;
}
