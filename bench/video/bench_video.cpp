// bench_video: figures for the in-process video path, printed, never asserted.
//   1. tiny demo model, 64x64, 9 frames: load time, per-step time, decode, peak RSS
//   2. Wan2.1-1.3B-shaped random transformer + Wan2.1-shaped VAE at 256x256, 17 frames (minutes on
//      2 cores; --steps 1 for a quick look, --skip-big to leave it out); prompt embeddings are random
//      [1, 512, 4096] so the 22 GB UMT5-XXL is not needed
//   3. MP4 encode of 81 frames at 480x832 (libx264, crf 25, yuv420p, faststart)
// Each model scenario runs in a forked child so its peak RSS is its own.
//   bench_video [--steps N] [--skip-big] [--threads N] [--mp4-only] [--mp4 FxHxW] [--dump-rgb FILE]
// --mp4-only times only 3 (size from --mp4, default 81x480x832); --dump-rgb writes its frames as raw
// RGB24 (frame, row, column) so another encoder can be timed on the very same pixels.
#include "demo_model.h"
#include "media/mp4_export.h"
#include "wan_pipeline/wan_pipeline.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
namespace wan = omnihost::models::wan;
using clock_type = std::chrono::steady_clock;

namespace {

double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

double peak_rss_gib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is KiB on Linux
}

struct scenario {
    std::string name;
    omnihost::tools::demo_model_options model;
    int64_t height, width, frames, steps;
    bool random_embeds;  // give prompt embeddings instead of running a text encoder
    int64_t text_dim;
};

fs::path scenario_dir() { return fs::temp_directory_path() / ("bench_video_" + std::to_string(::getppid())); }

// Writing multi-GB random weights happens in its own child, so it does not count in the peak RSS
// of the generation child.
int write_scenario(const scenario &sc, int) {
    auto t0 = clock_type::now();
    omnihost::tools::write_demo_model(scenario_dir(), sc.model);
    std::printf("[%s] wrote random weights in %.1f s\n", sc.name.c_str(), since(t0));
    return 0;
}

int run_scenario(const scenario &sc, int threads) {
    const fs::path dir = scenario_dir();
    auto t0 = clock_type::now();

    wan::pipeline_settings s;
    s.device = "cpu";
    s.threads = threads;
    s.vae_use_slicing = true;
    s.vae_use_tiling = true;
    wan::load_callbacks lcb;
    t0 = clock_type::now();
    auto pipe = wan::wan_pipeline::load(dir, s, lcb);
    std::printf("[%s] load %.2f s (%s, %d threads)\n", sc.name.c_str(), since(t0), pipe->info().variant.c_str(),
                pipe->info().threads);

    wan::generate_request r;
    r.prompt = "a red fox runs across a snowy field, cinematic lighting";
    r.negative_prompt = "blurry, low quality";
    r.height = sc.height;
    r.width = sc.width;
    r.num_frames = sc.frames;
    r.num_inference_steps = sc.steps;
    r.guidance_scale = 5.0;
    r.seed = 42;
    if (sc.random_embeds) {
        at::Generator g = at::detail::createCPUGenerator(7);
        r.prompt_embeds = at::randn({1, 512, sc.text_dim}, g, at::kFloat);
        r.negative_prompt_embeds = at::randn({1, 512, sc.text_dim}, g, at::kFloat);
    }
    std::vector<double> step_times;
    double decode_s = 0;
    auto last = clock_type::now();
    auto decode_start = clock_type::time_point{};
    wan::generate_callbacks cb;
    cb.progress = [&](int step, int total, const std::string &phase) {
        if (phase == "denoise") {
            step_times.push_back(since(last));
            std::printf("[%s]   step %d/%d: %.3f s\n", sc.name.c_str(), step, total, step_times.back());
            std::fflush(stdout);
            last = clock_type::now();
            decode_start = last;
        } else if (phase == "encode" && step == 1) {
            last = clock_type::now();
        }
    };
    t0 = clock_type::now();
    auto out = pipe->generate(r, cb);
    decode_s = since(decode_start);
    const double total = since(t0);
    double sum = 0;
    for (double v : step_times) sum += v;
    std::printf("[%s] %lldx%lld, %lld frames, %lld steps (CFG, 2 transformer passes per step): "
                "mean %.3f s/step, decode %.2f s, total %.2f s, peak RSS %.2f GiB\n",
                sc.name.c_str(), (long long)sc.width, (long long)sc.height, (long long)out.num_frames,
                (long long)sc.steps, step_times.empty() ? 0.0 : sum / double(step_times.size()), decode_s, total,
                peak_rss_gib());
    pipe.reset();
    fs::remove_all(dir);
    return 0;
}

int run_in_child(int (*fn)(const scenario &, int), const scenario &sc, int threads) {
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
        int rc = 1;
        try {
            rc = fn(sc, threads);
        } catch (const std::exception &e) {
            std::fprintf(stderr, "[%s] failed: %s\n", sc.name.c_str(), e.what());
        }
        std::fflush(stdout);
        _exit(rc);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

void bench_mp4(int frames, int height, int width, const std::string &dump_rgb) {
    std::vector<uint8_t> rgb(size_t(frames) * height * width * 3);
    uint32_t x = 12345;  // noise-ish content with some structure, the hard case for the encoder
    for (size_t i = 0; i < rgb.size(); ++i) {
        x = x * 1664525u + 1013904223u;
        rgb[i] = uint8_t(((i / 3) % size_t(width)) / 4 + (x >> 27));
    }
    if (!dump_rgb.empty())
        std::ofstream(dump_rgb, std::ios::binary).write(reinterpret_cast<const char *>(rgb.data()),
                                                        static_cast<std::streamsize>(rgb.size()));
    omnihost::media::mp4_options o;
    o.fps = 16;
    auto cpu = [] {  // user + system seconds of this process (libx264 runs in its threads)
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    };
    const double c0 = cpu();
    auto t0 = clock_type::now();
    auto mp4 = omnihost::media::encode_mp4(rgb.data(), frames, width, height, o);
    const double s = since(t0);
    std::printf("[mp4] %d frames %dx%d -> %.2f MB in %.2f s (%.1f CPU-s; libx264 %s, crf %d)\n", frames, width, height,
                double(mp4.size()) / 1e6, s, cpu() - c0, o.preset.c_str(), o.crf);
}

}  // namespace

int main(int argc, char **argv) {
    int steps_big = 2, steps_tiny = 4, threads = 0;
    bool skip_big = false, mp4_only = false;
    int mp4_frames = 81, mp4_height = 480, mp4_width = 832;
    std::string dump_rgb;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--steps" && i + 1 < argc) steps_big = steps_tiny = std::atoi(argv[++i]);
        else if (a == "--mp4-only") mp4_only = true;
        else if (a == "--dump-rgb" && i + 1 < argc) dump_rgb = argv[++i];
        else if (a == "--mp4" && i + 1 < argc) {
            if (std::sscanf(argv[++i], "%dx%dx%d", &mp4_frames, &mp4_height, &mp4_width) != 3 || mp4_frames < 1 ||
                mp4_height < 2 || mp4_width < 2 || mp4_height % 2 || mp4_width % 2) {
                std::printf("--mp4 needs FRAMESxHEIGHTxWIDTH (even height and width), got %s\n", argv[i]);
                return 2;
            }
        }
        else if (a == "--skip-big") skip_big = true;
        else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
        else {
            std::printf("usage: %s [--steps N] [--skip-big] [--threads N] [--mp4-only] [--mp4 FxHxW] [--dump-rgb FILE]\n",
                        argv[0]);
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }
    std::printf("bench_video: figures only, nothing is asserted\n");
    int rc = 0;
    if (mp4_only) {
        bench_mp4(mp4_frames, mp4_height, mp4_width, dump_rgb);
        return 0;
    }

    scenario tiny{"tiny-demo", {}, 64, 64, 9, steps_tiny, false, 32};
    rc |= run_in_child(write_scenario, tiny, threads);
    if (rc == 0) rc |= run_in_child(run_scenario, tiny, threads);

    if (!skip_big) {
        scenario big{"wan2.1-1.3B-shape", {}, 256, 256, 17, steps_big, true, 4096};
        auto &t = big.model.transformer;  // Wan2.1-T2V-1.3B transformer/config.json
        t.num_attention_heads = 12;
        t.attention_head_dim = 128;
        t.ffn_dim = 8960;
        t.num_layers = 30;
        t.text_dim = 4096;
        big.model.text_encoder.d_model = 4096;  // unused (not written), keeps the writer's check happy
        auto &v = big.model.vae;  // the Wan2.1 VAE
        v.base_dim = 96;
        v.dim_mult = {1, 2, 4, 4};
        v.num_res_blocks = 2;
        big.model.components = {"scheduler", "transformer", "vae"};
        if (run_in_child(write_scenario, big, threads) == 0) rc |= run_in_child(run_scenario, big, threads);
        else rc |= 1;
        std::error_code ec;
        fs::remove_all(fs::temp_directory_path() / ("bench_video_" + std::to_string(::getpid())), ec);
    } else {
        std::printf("[wan2.1-1.3B-shape] skipped (--skip-big)\n");
    }

    bench_mp4(mp4_frames, mp4_height, mp4_width, dump_rgb);
    return rc;
}
