// Transformer per-step benchmark: the golden tiny Wan2.1 transformer, then Wan2.1-1.3B-shaped random
// weights (dim 1536, 30 layers, 12 heads, ffn 8960, text 4096) at 256x256, 17 frames
// (latent 16x5x32x32 -> 1280 tokens) with a 512-token text context, as the pipeline runs it.
//   bench_wan_transformer [--layers N] [--forwards N] [--threads N] [--dtype fp32|bf16]
//                         [--golden DIR] [--skip-large] [--no-allocator-tuning]
//                         [--save-random DIR] [--save-only] [--model DIR] [--device cpu|cuda[:N]] [--latent FxHxW]
//                         [--skip-tiny] [--profile FILE]
// One denoising step with CFG = 2 forwards (text K/V cached per prompt, as the pipeline does).
// Beside the text-to-video step, the same model in the Wan2.1 I2V layout ([1.3B-i2v]: 36 input
// channels for noise + mask + image latent, a 257-token CLIP ViT-H context through the image
// embedder and every block's added K/V) at the same 1280 tokens; --skip-i2v leaves it out.
// --save-random DIR writes the random model as a diffusers folder (config.json + safetensors) so a
// PyTorch/diffusers run can use the very same weights; --model DIR benchmarks a diffusers
// transformer folder (e.g. the real Wan2.1-T2V-1.3B transformer/) instead of random weights.
// --device runs the large model there (inputs are drawn on the CPU with the same seed, so every
// device sees the same numbers); --latent sets its latent frames x height x width, e.g. 21x60x104
// for 480x832 at 81 frames (32,760 tokens). CUDA timings synchronise on the result before the clock stops.
// --skip-tiny leaves out the golden tiny model; --save-only writes the --save-random folder and exits
// (scripts/bench_wan_side_by_side.sh: one process per measured side, so each peak RSS is its own).
// The attention path (fused SDPA or the chunked math fallback) is printed on the first lines.
// --profile FILE (libtorch 2.x: the Kineto profiler) records the last forward of the large model as
// a Chrome trace; scripts/profile_summary.py turns it into self time per op and input shape.
#include "core/runtime.h"
#include "core/torch_compat.h"
#include "core/safetensors.h"
#include "wan_transformer/wan_transformer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#if OMNIHOST_TORCH_AT_LEAST(2, 0)
#include <torch/csrc/autograd/profiler_kineto.h>
#define OMNIHOST_BENCH_PROFILER 1
#else
#include <torch/csrc/autograd/profiler_legacy.h>
#define OMNIHOST_BENCH_PROFILER 2
#endif
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>

namespace fs = std::filesystem;
using namespace omnihost::models;
using clock_type = std::chrono::steady_clock;

namespace {

std::string profile_path;  // --profile: where the last large-model forward's trace goes

// Records what runs between its construction and destruction when --profile asked for it.
struct forward_profile {
    bool on = false;
#if OMNIHOST_BENCH_PROFILER == 2
    std::unique_ptr<torch::autograd::profiler::RecordProfile> legacy;
#endif
    explicit forward_profile(bool wanted) {
#if OMNIHOST_BENCH_PROFILER == 2
        if (!wanted || profile_path.empty()) return;
        legacy = std::make_unique<torch::autograd::profiler::RecordProfile>(profile_path);
        on = true;
#elif OMNIHOST_BENCH_PROFILER
        if (!wanted || profile_path.empty()) return;
        namespace prof = torch::autograd::profiler;
        const prof::ProfilerConfig config(prof::ProfilerState::KINETO, /*report_input_shapes=*/true,
                                          /*profile_memory=*/false);
        const std::set<torch::profiler::impl::ActivityType> cpu{torch::profiler::impl::ActivityType::CPU};
        prof::prepareProfiler(config, cpu);
        prof::enableProfiler(config, cpu);
        on = true;
#else
        (void)wanted;
#endif
    }
    ~forward_profile() {
#if OMNIHOST_BENCH_PROFILER == 2
        if (!on) return;
        legacy.reset();  // writes the trace
        std::printf("profile of this forward written to %s\n", profile_path.c_str());
#elif OMNIHOST_BENCH_PROFILER
        if (!on) return;
        auto result = torch::autograd::profiler::disableProfiler();
        result->save(profile_path);
        std::printf("profile of this forward written to %s\n", profile_path.c_str());
#endif
    }
};

double peak_rss_mib() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

double current_rss_mib() {
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

double cpu_seconds() {  // user + system time of every thread of this process
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

void run(const char *label, const wan::wan_transformer &tr, int64_t c, int64_t f, int64_t h, int64_t w,
         int64_t text_len, int forwards, int64_t image_tokens = 0) {
    const auto &cfg = tr.config();
    auto gen = at::detail::createCPUGenerator(7);
    at::Tensor x = at::randn({1, c, f, h, w}, gen);
    at::Tensor text = at::randn({1, text_len, cfg.text_dim}, gen);
    std::optional<at::Tensor> image;
    if (image_tokens > 0 && cfg.image_dim) image = at::randn({1, image_tokens, *cfg.image_dim}, gen);
    at::Tensor t = at::tensor({999}, at::kLong);
    const int64_t tokens = (f / cfg.patch_size[0]) * (h / cfg.patch_size[1]) * (w / cfg.patch_size[2]);

    auto t0 = clock_type::now();
    auto ctx = tr.encode_context(text, image);
    const double text_s = seconds_since(t0);
    std::printf("[%s] latent %lldx%lldx%lldx%lld (%lld tokens), text %lld tokens, %lld layers, %s, %d threads\n", label,
                (long long)c, (long long)f, (long long)h, (long long)w, (long long)tokens, (long long)text_len,
                (long long)cfg.num_layers, dtype_name(tr.dtype()).c_str(), at::get_num_threads());
    std::printf("[%s] text context (text_embedder + cross-attn K/V%s, once per prompt): %.3f s\n", label,
                image ? ", image embedder + added K/V of the image tokens" : "", text_s);
    double total = 0, first = 0, cpu_total = 0, cpu_first = 0;
    for (int i = 0; i < forwards; ++i) {
        const double c0 = cpu_seconds();
        t0 = clock_type::now();
        at::Tensor y;
        {
            forward_profile profile(i + 1 == forwards && std::string(label) != "tiny");
            y = tr.forward(x, t, *ctx);
            if (!y.device().is_cpu()) (void)y.flatten()[0].item<float>();  // wait for the device
        }
        const double s = seconds_since(t0), c = cpu_seconds() - c0;
        if (i == 0) first = s, cpu_first = c;
        total += s;
        cpu_total += c;
        // mean |v| shows that another implementation given the same weights and inputs agrees.
        std::printf("[%s] forward %d: %.3f s, %.1f CPU-s  (rss %.0f MiB, peak %.0f MiB)  mean |v| = %.6f\n", label,
                    i + 1, s, c, current_rss_mib(), peak_rss_mib(), y.to(at::kFloat).abs().mean().item<double>());
        std::fflush(stdout);
        (void)y;
    }
    if (forwards == 0) {
        std::printf("[%s] no forwards asked; peak RSS %.0f MiB\n", label, peak_rss_mib());
        return;
    }
    const double per_forward = forwards > 1 ? (total - first) / (forwards - 1) : first;
    const double cpu_per_forward = forwards > 1 ? (cpu_total - cpu_first) / (forwards - 1) : cpu_first;
    std::printf("[%s] per forward %.3f s (%.1f CPU-s)%s; per denoising step with CFG (2 forwards) %.3f s; peak RSS %.0f MiB\n",
                label, per_forward, cpu_per_forward, forwards > 1 ? " (excluding the first)" : "", 2 * per_forward,
                peak_rss_mib());
}

}  // namespace

int main(int argc, char **argv) {
    int layers = 30, forwards = 2, threads = 0;
    bool skip_large = false, tune = true, skip_i2v = false, skip_tiny = false, save_only = false;
    std::string dtype = "fp32", device_text = "cpu";
    int64_t lf = 5, lh = 32, lw = 32;  // latent of 256x256, 17 frames
    fs::path golden = OMNIHOST_GOLDEN_DIR;
    fs::path save_dir, model_dir;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--layers") layers = std::atoi(next().c_str());
        else if (a == "--forwards") forwards = std::max(0, std::atoi(next().c_str()));  // 0: load and text only
        else if (a == "--threads") threads = std::atoi(next().c_str());
        else if (a == "--dtype") dtype = next();
        else if (a == "--golden") golden = next();
        else if (a == "--skip-large") skip_large = true;
        else if (a == "--skip-i2v") skip_i2v = true;
        else if (a == "--skip-tiny") skip_tiny = true;
        else if (a == "--save-only") save_only = true;
        else if (a == "--no-allocator-tuning") tune = false;
        else if (a == "--save-random") save_dir = next();
        else if (a == "--model") model_dir = next();
        else if (a == "--device") device_text = next();
        else if (a == "--profile") {
            profile_path = next();
            if (!OMNIHOST_BENCH_PROFILER) {
                std::fprintf(stderr, "--profile needs libtorch 2.x (Kineto); this build has %s\n", TORCH_VERSION);
                return 2;
            }
        }
        else if (a == "--latent") {
            const std::string v = next();
            long long f = 0, h = 0, w = 0;
            if (std::sscanf(v.c_str(), "%lldx%lldx%lld", &f, &h, &w) != 3 || f <= 0 || h <= 0 || w <= 0) {
                std::fprintf(stderr, "--latent needs FxHxW (positive), got %s\n", v.c_str());
                return 2;
            }
            lf = f, lh = h, lw = w;
        }
        else {
            std::fprintf(stderr, "usage: %s [--layers N] [--forwards N] [--threads N] [--dtype fp32|bf16] [--golden DIR] "
                                 "[--skip-large] [--skip-i2v] [--skip-tiny] [--no-allocator-tuning] [--save-random DIR] [--save-only] [--model DIR] "
                                 "[--device D] [--latent FxHxW] [--profile FILE]\n", argv[0]);
            return a == "-h" || a == "--help" ? 0 : 2;
        }
    }
    try {
        const bool tuned = tune && tune_allocator();
        configure_threads(threads);
        const auto dt = parse_dtype(dtype);
        const auto dev = parse_device(device_text);
        std::printf("allocator tuning: %s\n", tuned ? "on (mallopt)" : "off");
        {
            // Timings are only meaningful on a quiet machine: OpenMP threads stall when cores are shared.
            std::ifstream la("/proc/loadavg");
            std::string l1;
            la >> l1;
            std::printf("load average (1 min): %s, intra-op threads: %d\n", l1.c_str(), at::get_num_threads());
            std::printf("libtorch %d.%d, attention: %s\n", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR,
                        OMNIHOST_HAS_SDPA && sdpa_enabled() ? "at::scaled_dot_product_attention (fused)"
                                                            : "chunked math (no SDPA or OMNIHOST_SDPA=0)");
        }

        if (!skip_tiny) {
            auto t0 = clock_type::now();
            auto tiny = wan::wan_transformer::load(golden / "wan21_tiny/transformer", {dt, c10::kCPU});
            std::printf("[tiny] loaded golden wan21_tiny/transformer (%lld params) in %.3f s\n",
                        (long long)tiny.num_parameters(), seconds_since(t0));
            // The pipeline goldens' shape: 9 frames 32x48 -> latent 16x3x4x6, 16 text tokens.
            run("tiny", tiny, 16, 3, 4, 6, 16, std::max(forwards, 5));
        }
        if (!skip_large) {
            wan::wan_transformer_config cfg;  // Wan2.1-T2V-1.3B
            cfg.num_attention_heads = 12;
            cfg.attention_head_dim = 128;
            cfg.ffn_dim = 8960;
            cfg.num_layers = layers;
            cfg.in_channels = cfg.out_channels = 16;
            cfg.text_dim = 4096;
            auto t0 = clock_type::now();
            if (!model_dir.empty()) {
                auto tr = wan::wan_transformer::load(model_dir, {dt, dev});
                std::printf("[model] loaded %s: %lld params, %lld layers in %.1f s, rss %.0f MiB\n",
                            model_dir.string().c_str(), (long long)tr.num_parameters(),
                            (long long)tr.config().num_layers, seconds_since(t0), current_rss_mib());
                run("model", tr, tr.config().in_channels, lf, lh, lw, 512, forwards);
                return 0;
            }
            {  // scoped: the T2V weights are freed before the I2V model is drawn
                auto big = wan::wan_transformer::random(cfg, 1234, {dt, c10::kCPU});
                // Drawn on the CPU (the same numbers on every device), then moved when asked.
                if (!dev.is_cpu()) big.to(dev);
                std::printf("[1.3B] random weights: %lld params (%d of 30 layers) in %.1f s, rss %.0f MiB\n",
                            (long long)big.num_parameters(), layers, seconds_since(t0), current_rss_mib());
                if (!save_dir.empty()) {
                    fs::create_directories(save_dir);
                    nlohmann::json c = {{"_class_name", "WanTransformer3DModel"}, {"patch_size", cfg.patch_size},
                                        {"num_attention_heads", cfg.num_attention_heads},
                                        {"attention_head_dim", cfg.attention_head_dim}, {"in_channels", cfg.in_channels},
                                        {"out_channels", cfg.out_channels}, {"text_dim", cfg.text_dim},
                                        {"freq_dim", cfg.freq_dim}, {"ffn_dim", cfg.ffn_dim}, {"num_layers", cfg.num_layers},
                                        {"cross_attn_norm", cfg.cross_attn_norm}, {"qk_norm", cfg.qk_norm}, {"eps", cfg.eps},
                                        {"image_dim", nullptr}, {"added_kv_proj_dim", nullptr},
                                        {"rope_max_seq_len", cfg.rope_max_seq_len}, {"pos_embed_seq_len", nullptr}};
                    std::ofstream(save_dir / "config.json") << c.dump(2) << "\n";
                    save_safetensors(save_dir / "diffusion_pytorch_model.safetensors", big.named_parameters());
                    std::printf("[1.3B] saved the random model to %s\n", save_dir.string().c_str());
                    if (save_only) return 0;
                }
                run("1.3B", big, 16, lf, lh, lw, 512, forwards);
            }
            if (!skip_i2v) {
                // The same dims in the Wan2.1 I2V layout (released only at 14B; the layout is what
                // costs: 36 input channels and a second cross-attention over 257 image tokens).
                wan::wan_transformer_config icfg = cfg;
                icfg.in_channels = 36;
                icfg.image_dim = 1280;
                icfg.added_kv_proj_dim = cfg.inner_dim();
                t0 = clock_type::now();
                auto i2v = wan::wan_transformer::random(icfg, 1235, {dt, c10::kCPU});
                if (!dev.is_cpu()) i2v.to(dev);
                std::printf("[1.3B-i2v] random weights: %lld params in %.1f s, rss %.0f MiB\n",
                            (long long)i2v.num_parameters(), seconds_since(t0), current_rss_mib());
                run("1.3B-i2v", i2v, 36, lf, lh, lw, 512, forwards, 257);
            }
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "bench_wan_transformer: %s\n", e.what());
        return 1;
    }
    return 0;
}
