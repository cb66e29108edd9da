// bench_wan_vae: Wan VAE decode time and peak RSS, untiled vs tiled, at the same output size; and,
// with --modes encode,encode_tiled, the encode of a video (or one image: --frames 1) of that size.
//
// Writes a Wan2.1-VAE-shaped checkpoint with random weights (base_dim 96, z_dim 16, unless
// --weights names a real diffusers vae/ folder), then runs each mode in a fresh child process
// (this program re-executed) so each peak RSS is that mode's own; the parent reads the child's
// ru_maxrss from wait4(). Figures are printed, never asserted.
//
//   bench_wan_vae [--height 256] [--width 256] [--frames 17] [--tile 128] [--stride 96]
//                 [--modes untiled,tiled,encode,encode_tiled] [--dtype fp32|bf16] [--threads N] [--no-tune-alloc]
//                 [--weights DIR] [--save-random DIR]
// --save-random DIR writes the random VAE as a diffusers folder (config.json + safetensors) and exits,
// so diffusers can decode with the very same weights (scripts/bench_wan_side_by_side.sh).
#include "wan_vae/wan_vae.h"
#include "wan_vae/wan_vae_model.h"

#include "core/runtime.h"
#include "core/safetensors.h"

#include <ATen/ATen.h>

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char **environ;

namespace fs = std::filesystem;
using namespace omnihost::models;

namespace {

struct args {
    int height = 256, width = 256, frames = 17;
    int tile = 128, stride = 96;  // the diffusers defaults (256/192) do not tile a 256x256 video
    std::string modes = "untiled,tiled";
    std::string dtype = "fp32";
    int threads = 0;
    bool tune_alloc = true;
    std::string weights;
    std::string save_random;
    std::string child_mode;  // internal: run one mode and exit
};

[[noreturn]] void usage(const char *why) {
    std::fprintf(stderr,
                 "%s\nusage: bench_wan_vae [--height H] [--width W] [--frames F] [--tile PX] [--stride PX]\n"
                 "                     [--modes untiled,tiled,encode,encode_tiled] [--dtype fp32|bf16] [--threads N]\n"
                 "                     [--no-tune-alloc] [--weights VAE_DIR] [--save-random DIR]\n",
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
        if (k == "--height") a.height = std::stoi(value(i));
        else if (k == "--width") a.width = std::stoi(value(i));
        else if (k == "--frames") a.frames = std::stoi(value(i));
        else if (k == "--tile") a.tile = std::stoi(value(i));
        else if (k == "--stride") a.stride = std::stoi(value(i));
        else if (k == "--modes") a.modes = value(i);
        else if (k == "--dtype") a.dtype = value(i);
        else if (k == "--threads") a.threads = std::stoi(value(i));
        else if (k == "--no-tune-alloc") a.tune_alloc = false;
        else if (k == "--weights") a.weights = value(i);
        else if (k == "--save-random") a.save_random = value(i);
        else if (k == "--child") a.child_mode = value(i);
        else usage(("unknown option " + k).c_str());
    }
    if (a.height % 8 || a.width % 8 || a.height <= 0 || a.width <= 0) usage("height/width must be multiples of 8");
    if (a.frames < 1 || (a.frames - 1) % 4) usage("frames must be 4k+1");
    return a;
}

double now_s() {
    using clock = std::chrono::steady_clock;
    return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

long rss_kib(const char *field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field, 0) == 0) return std::strtol(line.c_str() + std::strlen(field), nullptr, 10);
    return -1;
}

// Random Wan2.1-VAE-shaped encoder and decoder weights (std 1/sqrt(fan_in) so activations stay in range).
fs::path write_random_vae(const fs::path &dir) {
    const std::string config = R"({"_class_name": "AutoencoderKLWan", "base_dim": 96, "z_dim": 16,
        "dim_mult": [1, 2, 4, 4], "num_res_blocks": 2, "temperal_downsample": [false, true, true],
        "is_residual": false, "out_channels": 3, "patch_size": null, "scale_factor_spatial": 8})";
    fs::create_directories(dir);
    std::ofstream(dir / "config.json") << config;
    const auto cfg = wan_vae::vae_config::from_json_text(config, "bench config");
    wan_vae::detail::vae_module module(cfg, {at::kFloat, at::kCPU}, /*with_encoder=*/true);
    at::manual_seed(0);
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const auto &p : module.named_parameters()) {
        const at::Tensor &t = p.value();
        at::Tensor v;
        if (p.key().size() > 6 && p.key().compare(p.key().size() - 6, 6, ".gamma") == 0)
            v = at::ones(t.sizes());
        else if (t.dim() == 1)
            v = at::zeros(t.sizes());
        else
            v = at::randn(t.sizes()) / std::sqrt(static_cast<double>(t.numel() / t.size(0)));
        tensors.emplace_back(p.key(), v);
    }
    save_safetensors(dir / "diffusion_pytorch_model.safetensors", tensors);
    return dir;
}

int run_child(const args &a) {
    if (a.tune_alloc) tune_allocator();
    const int threads = configure_threads(a.threads);
    wan_vae::load_settings settings;
    settings.dtype = parse_dtype(a.dtype);
    const bool encoding = a.child_mode.rfind("encode", 0) == 0;
    settings.with_encoder = encoding;
    const double t0 = now_s();
    const wan_vae::vae v = wan_vae::vae::load(a.weights, settings);
    const double load_s = now_s() - t0;
    const long rss_loaded = rss_kib("VmRSS:");

    if (encoding) {
        at::manual_seed(1);
        const at::Tensor video = at::rand({1, 3, a.frames, a.height, a.width}) * 2 - 1;
        wan_vae::encode_options opts;
        opts.use_tiling = a.child_mode == "encode_tiled";
        opts.tiling = {a.tile, a.tile, a.stride, a.stride};
        int64_t chunks = 0;
        opts.progress = [&](int64_t done, int64_t) { chunks = done; };
        const double t1 = now_s();
        const at::Tensor latents = v.normalize(v.encode(video, opts));
        const double encode_s = now_s() - t1;
        // VmHWM is this process's own peak: ru_maxrss from wait4 can carry the parent's peak over
        // the spawn (the child shares the parent's memory until exec).
        std::printf("  %-8s threads %d  load %.2f s  encode %.2f s (%lld chunks)  RSS after load %.0f MiB  "
                    "peak RSS (VmHWM) %.0f MiB  latent [%lld, %lld, %lld, %lld, %lld]\n",
                    a.child_mode.c_str(), threads, load_s, encode_s, static_cast<long long>(chunks),
                    rss_loaded / 1024.0, rss_kib("VmHWM:") / 1024.0, (long long)latents.size(0), (long long)latents.size(1),
                    (long long)latents.size(2), (long long)latents.size(3), (long long)latents.size(4));
        std::fflush(stdout);
        return 0;
    }

    const int s = v.config().scale_factor_spatial;
    at::manual_seed(1);
    const at::Tensor latents =
        at::randn({1, v.config().z_dim, (a.frames - 1) / 4 + 1, a.height / s, a.width / s});
    wan_vae::decode_options opts;
    opts.use_tiling = a.child_mode == "tiled";
    opts.tiling = {a.tile, a.tile, a.stride, a.stride};
    int64_t chunks = 0;
    opts.progress = [&](int64_t done, int64_t) { chunks = done; };
    const double t1 = now_s();
    const at::Tensor video = v.decode_latents(latents, opts);
    const double decode_s = now_s() - t1;
    std::printf("  %-8s threads %d  load %.2f s  decode %.2f s (%lld chunks)  RSS after load %.0f MiB  "
                "output [%lld, %lld, %lld, %lld, %lld]\n",
                a.child_mode.c_str(), threads, load_s, decode_s, static_cast<long long>(chunks), rss_loaded / 1024.0,
                (long long)video.size(0), (long long)video.size(1), (long long)video.size(2), (long long)video.size(3),
                (long long)video.size(4));
    std::fflush(stdout);
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    args a;
    try {
        a = parse(argc, argv);
        if (!a.child_mode.empty()) return run_child(a);
        if (!a.save_random.empty()) {
            write_random_vae(a.save_random);
            std::printf("random Wan2.1-shaped VAE written to %s\n", a.save_random.c_str());
            return 0;
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "bench_wan_vae: %s\n", e.what());
        return 1;
    }

    fs::path tmp;
    if (a.weights.empty()) {
        char tmpl[] = "/tmp/bench-wan-vae-XXXXXX";
        if (!mkdtemp(tmpl)) return 1;
        tmp = tmpl;
        const double t0 = now_s();
        a.weights = write_random_vae(tmp / "vae").string();
        std::printf("random Wan2.1-shaped VAE (base_dim 96, z_dim 16) written in %.1f s\n", now_s() - t0);
        std::fflush(stdout);
    }
    std::printf("decode/encode %dx%d, %d frames (latent %dx%d, %d frames), dtype %s, tile %d stride %d px, allocator %s\n",
                a.width, a.height, a.frames, a.width / 8, a.height / 8, (a.frames - 1) / 4 + 1, a.dtype.c_str(),
                a.tile, a.stride, a.tune_alloc ? "tuned" : "glibc default");
    std::printf("(float32 weights are mmapped zero-copy, so RSS includes the weight pages the decode touches)\n");
    std::fflush(stdout);  // the children share this stdout

    std::stringstream modes(a.modes);
    std::string mode;
    int rc = 0;
    while (std::getline(modes, mode, ',')) {
        std::vector<std::string> child{argv[0], "--child", mode, "--weights", a.weights,
                                       "--height", std::to_string(a.height), "--width", std::to_string(a.width),
                                       "--frames", std::to_string(a.frames), "--tile", std::to_string(a.tile),
                                       "--stride", std::to_string(a.stride), "--dtype", a.dtype,
                                       "--threads", std::to_string(a.threads)};
        if (!a.tune_alloc) child.push_back("--no-tune-alloc");
        std::vector<char *> cargv;
        for (auto &s : child) cargv.push_back(s.data());
        cargv.push_back(nullptr);
        pid_t pid = 0;
        if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, cargv.data(), environ) != 0) {
            std::perror("posix_spawn");
            return 1;
        }
        int status = 0;
        struct rusage usage {};
        wait4(pid, &status, 0, &usage);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            std::printf("  %-8s FAILED (status %d)\n", mode.c_str(), status);
            rc = 1;
            continue;
        }
        std::printf("  %-8s peak RSS %.0f MiB  (user %.1f s, sys %.1f s)\n", mode.c_str(), usage.ru_maxrss / 1024.0,
                    usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6,
                    usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6);
        std::fflush(stdout);
    }
    if (!tmp.empty()) fs::remove_all(tmp);
    return rc;
}
