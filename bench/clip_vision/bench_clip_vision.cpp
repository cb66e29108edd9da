// bench_clip_vision: the CLIP image encode of WanImageToVideoPipeline.encode_image — one image,
// preprocessing (a 480x832 uint8 frame -> 224x224 pixel_values) and encode() (penultimate hidden
// states, the last layer skipped) — on a ViT-H/14-shaped model with random weights.
//
// A full ViT-H/14 is 632 M parameters (2.5 GB of fp32 to write and load), so by default the model
// is built with --layers 4 and the full 32-layer figure is extrapolated from two measured models:
// embeddings only (1 layer; encode() runs none) and --layers L (encode() runs L - 1):
//   per_layer = (t_L - t_embed) / (L - 1),   full = t_embed + 31 * per_layer.
// With --layers 32 the full model is measured directly (no extrapolation). --weights DIR times a
// real image_encoder/ folder instead. Medians over --repeat runs after one warm-up.
//
//   bench_clip_vision [--layers 4] [--repeat 5] [--dtype fp32|bf16] [--device cpu|cuda] [--threads N]
//                     [--weights DIR]
#include "clip_vision/clip_image_processor.h"
#include "clip_vision/clip_vision_encoder.h"

#include "core/runtime.h"
#include "core/safetensors.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <time.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace omnihost::models;

namespace {

struct args {
    int layers = 4;
    int repeat = 5;
    std::string dtype = "fp32";
    std::string device = "cpu";
    int threads = 0;
    std::string weights;
};

[[noreturn]] void usage(const char *why) {
    std::fprintf(stderr,
                 "%s\nusage: bench_clip_vision [--layers L] [--repeat R] [--dtype fp32|bf16] [--device cpu|cuda]\n"
                 "                         [--threads N] [--weights IMAGE_ENCODER_DIR]\n",
                 why);
    std::exit(2);
}

args parse(int argc, char **argv) {
    args a;
    auto value = [&](int &i) -> std::string {
        if (i + 1 >= argc) usage((std::string(argv[i]) + " needs a value").c_str());
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        if (k == "--layers") a.layers = std::stoi(value(i));
        else if (k == "--repeat") a.repeat = std::stoi(value(i));
        else if (k == "--dtype") a.dtype = value(i);
        else if (k == "--device") a.device = value(i);
        else if (k == "--threads") a.threads = std::stoi(value(i));
        else if (k == "--weights") a.weights = value(i);
        else usage(("unknown argument " + k).c_str());
    }
    if (a.layers < 2 || a.layers > 32) usage("--layers must be in [2, 32]");
    if (a.repeat < 1) usage("--repeat must be >= 1");
    return a;
}

// A ViT-H/14 (Wan2.1 I2V image_encoder/config.json) with `layers` layers and random weights.
fs::path write_model(const fs::path &dir, int layers) {
    fs::create_directories(dir);
    std::ofstream(dir / "config.json") << R"({"model_type": "clip_vision_model", "hidden_size": 1280,
        "intermediate_size": 5120, "num_hidden_layers": )" << layers << R"(, "num_attention_heads": 16,
        "image_size": 224, "patch_size": 14, "num_channels": 3, "hidden_act": "gelu", "layer_norm_eps": 1e-05})";
    const int64_t d = 1280, ff = 5120;
    std::vector<std::pair<std::string, at::Tensor>> t;
    auto rnd = [](at::IntArrayRef shape) { return at::randn(shape) * 0.02; };
    auto norm = [&](const std::string &name) {
        t.emplace_back(name + ".weight", at::ones({d}) + rnd({d}));
        t.emplace_back(name + ".bias", rnd({d}));
    };
    auto lin = [&](const std::string &name, int64_t in, int64_t out) {
        t.emplace_back(name + ".weight", rnd({out, in}));
        t.emplace_back(name + ".bias", rnd({out}));
    };
    const std::string p = "vision_model.";
    t.emplace_back(p + "embeddings.class_embedding", rnd({d}));
    t.emplace_back(p + "embeddings.patch_embedding.weight", rnd({d, 3, 14, 14}));
    t.emplace_back(p + "embeddings.position_embedding.weight", rnd({257, d}));
    norm(p + "pre_layrnorm");
    norm(p + "post_layernorm");
    for (int i = 0; i < layers; ++i) {
        const std::string l = p + "encoder.layers." + std::to_string(i) + ".";
        for (const char *proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) lin(l + "self_attn." + proj, d, d);
        lin(l + "mlp.fc1", d, ff);
        lin(l + "mlp.fc2", ff, d);
        norm(l + "layer_norm1");
        norm(l + "layer_norm2");
    }
    save_safetensors(dir / "model.safetensors", t);
    return dir;
}

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Median wall time over `repeat` runs after a warm-up. Process CPU time per run is printed beside
// it: on a shared machine wall time far above CPU time / threads means the cores were busy elsewhere.
double median_seconds(const char *what, int repeat, const std::function<void()> &fn) {
    fn();  // warm-up
    std::vector<double> s;
    const double cpu0 = cpu_seconds();
    for (int i = 0; i < repeat; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(s.begin(), s.end());
    std::printf("    [%s: median wall %.2f ms, mean process CPU %.2f ms over %d runs]\n", what, s[s.size() / 2] * 1e3,
                (cpu_seconds() - cpu0) / repeat * 1e3, repeat);
    return s[s.size() / 2];
}

double encode_seconds(const char *what, const fs::path &dir, const clip_vision_options &opts, int repeat,
                      int64_t *params) {
    const auto enc = clip_vision_encoder::load(dir, opts);
    if (params) *params = enc.parameter_count();
    const auto pv = at::randn({1, 3, 224, 224});
    return median_seconds(what, repeat, [&] {
        auto out = enc.encode(pv);
        if (out.is_cuda()) out = out.cpu();  // waits for the kernels
    });
}

}  // namespace

int main(int argc, char **argv) {
    const args a = parse(argc, argv);
    tune_allocator();
    const int threads = configure_threads(a.threads);
    clip_vision_options opts;
    opts.dtype = parse_dtype(a.dtype);
    opts.device = parse_device(a.device);
    at::manual_seed(0);

    // Preprocessing: a Wan 480P frame (480x832 uint8) to 224x224 pixel_values.
    const auto frame = at::randint(0, 256, {480, 832, 3}, at::kByte);
    const clip_image_processor_config proc;
    const double pre_s = median_seconds("preprocess", a.repeat, [&] { clip_preprocess(frame, proc); });
    std::printf("clip preprocess 480x832 uint8 -> 1x3x224x224: %.2f ms  (threads %d, CPU)\n", pre_s * 1e3, threads);

    const std::string where = a.device + "/" + dtype_name(opts.dtype);
    if (!a.weights.empty()) {
        int64_t params = 0;
        const double t = encode_seconds("encode", a.weights, opts, a.repeat, &params);
        std::printf("clip encode %s (%lld params, %s): %.1f ms per image (measured)\n", a.weights.c_str(),
                    static_cast<long long>(params), where.c_str(), t * 1e3);
        return 0;
    }

    char tmpl[] = "/tmp/omnihost-bench-clip-XXXXXX";
    const fs::path tmp = mkdtemp(tmpl);
    struct cleanup {
        fs::path p;
        ~cleanup() { fs::remove_all(p); }
    } rm{tmp};

    int64_t params = 0;
    const double t_layers = encode_seconds("encode, L layers", write_model(tmp / "layers", a.layers), opts, a.repeat, &params);
    if (a.layers == 32) {
        std::printf("clip encode ViT-H/14 224x224, 32 layers (31 run), %lld params, %s, threads %d: %.1f ms "
                    "per image (measured)\n",
                    static_cast<long long>(params), where.c_str(), threads, t_layers * 1e3);
        return 0;
    }
    const double t_embed = encode_seconds("encode, embeddings only", write_model(tmp / "embed", 1), opts, a.repeat, nullptr);
    const double per_layer = (t_layers - t_embed) / (a.layers - 1);
    std::printf("clip encode ViT-H/14 224x224, %s, threads %d:\n", where.c_str(), threads);
    std::printf("  measured: embeddings %.2f ms; %d layers run %.1f ms -> %.2f ms per layer\n", t_embed * 1e3,
                a.layers - 1, t_layers * 1e3, per_layer * 1e3);
    std::printf("  EXTRAPOLATED full ViT-H/14 (31 of 32 layers run for hidden_states[-2]): %.1f ms per image\n",
                (t_embed + 31 * per_layer) * 1e3);
    return 0;
}
