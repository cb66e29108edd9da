// Stable Audio Open 1.0 benchmark on random weights of the real shapes (prints, never asserts):
//  * per denoising step as the pipeline runs it: DiT forward on the CFG batch of 2 (the conditioning's
//    cross-attention K/V made once per generation) + CFG combine + CosineDPMSolverMultistep step
//    (its torchsde Brownian-tree noise included), fp32 and/or bf16;
//  * the Oobleck decode of one waveform (fp32, as the pipeline keeps the VAE).
// Peak RSS is measured per phase, from the point its weights are resident (the kernel's high-water
// mark is reset after the model is made, so transient construction memory is not counted).
//
//   bench_stable_audio [--layers N] [--steps N] [--threads N] [--dtype fp32|bf16|both] [--seconds S]
//                      [--part dit|vae|all] [--vae-dtype fp32|bf16] [--save-random DIR]
//                      [--save-only] [--no-allocator-tuning]
//
// --seconds sets the latent length ceil(S * 44100 / 2048); the default is the model's maximum,
// 1024 frames = 47.55 s, which is what the pipeline always runs (shorter clips are conditioned and
// cropped, the DiT and the VAE still see 1024 frames). Smaller values only scale the cost down.
// --layers runs a DiT with N of the 24 blocks (default 2: a full 24-block step takes minutes on a
// small shared CPU) and prints the 24-block figures extrapolated linearly in N, labelled as such:
// the work outside the blocks (proj_in/out, 1x1 convs, timestep/global projections) is < 1% of one
// block at 1024 frames.
// --save-random DIR writes the random DiT (fp32, the chosen layer count) as a diffusers
// transformer/ folder, the random Oobleck as vae/ and the benchmark inputs as inputs.safetensors,
// so bench_stable_audio_diffusers.py runs diffusers on the very same numbers; --save-only stops there.
#include "core/runtime.h"
#include "core/safetensors.h"
#include "demo_stable_audio.h"
#include "oobleck/oobleck_vae.h"
#include "schedulers/cosine_dpm_multistep.h"
#include "stable_audio_dit/sa_dit.h"
#include "stable_audio_dit/sa_rope.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace omnihost::models;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int64_t full_layers = 24;
constexpr int64_t text_tokens = 130;  // 128 T5 tokens + seconds_start + seconds_total

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// Process CPU time (user + sys, all threads): on a shared machine wall time includes waiting for a
// core; CPU time / threads is what the work would take on idle cores (OpenMP spin-waits included).
double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + 1e-6 * double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double status_mib(const char *key) {
    std::ifstream st("/proc/self/status");
    std::string line;
    const std::string k = std::string(key) + ":";
    while (std::getline(st, line))
        if (line.rfind(k, 0) == 0) return std::atof(line.c_str() + k.size()) / 1024.0;  // kB
    return -1;
}
double rss_mib() { return status_mib("VmRSS"); }
double peak_mib() { return status_mib("VmHWM"); }

// Starts a new peak-RSS window: freed heap goes back to the kernel first, then the high-water mark
// is reset to the current RSS (Linux clear_refs "5"). False: the peak counts from process start.
bool reset_peak() {
    malloc_trim(0);
    std::ofstream f("/proc/self/clear_refs");
    f << "5";
    f.flush();
    return static_cast<bool>(f);
}

std::string env_or_unset(const char *name) {
    const char *v = std::getenv(name);
    return v ? std::string(v) : std::string("(unset)");
}

std::string blas_info() {
    const std::string cfg = at::show_config();
    const auto p = cfg.find("BLAS_INFO=");
    if (p == std::string::npos) return "unknown";
    return cfg.substr(p + 10, cfg.find_first_of(", \n", p + 10) - (p + 10));
}

struct inputs {
    at::Tensor latents;      // [1, 64, L] standard normal (times init_noise_sigma in the loop)
    at::Tensor text_audio;   // [2, 130, 768]: row 0 the all-zero unconditional row, as diffusers
    at::Tensor global;       // [2, 1, 1536]
    at::Tensor vae_latents;  // [1, 64, L]
};

inputs make_inputs(const stable_audio::dit_config &cfg, int64_t frames) {
    auto gen = at::detail::createCPUGenerator(7);
    inputs in;
    in.latents = at::randn({1, cfg.in_channels, frames}, gen);
    at::Tensor text = at::randn({1, text_tokens, cfg.cross_attention_input_dim}, gen);
    at::Tensor glob = at::randn({1, 1, cfg.global_states_input_dim}, gen);
    in.text_audio = at::cat({at::zeros_like(text), text});
    in.global = at::cat({glob, glob});
    in.vae_latents = at::randn({1, cfg.out_channels, frames}, gen);
    return in;
}

omnihost::tools::demo_stable_audio_options oobleck_options() {
    omnihost::tools::demo_stable_audio_options o;  // AutoencoderOobleck of Stable Audio Open 1.0
    o.seed = 99;
    o.vae.encoder_hidden_size = 128;
    o.vae.decoder_channels = 128;
    o.vae.decoder_input_channels = 64;
    o.transformer.in_channels = o.transformer.out_channels = 64;  // only checked for consistency
    o.components = {"vae"};
    return o;
}

void save_dit(const fs::path &dir, const stable_audio::dit_config &cfg) {
    auto model = stable_audio::dit::random(cfg, 1234, {c10::kFloat, c10::kCPU});
    const fs::path t = dir / "transformer";
    fs::create_directories(t);
    nlohmann::json c = {{"_class_name", "StableAudioDiTModel"}, {"sample_size", cfg.sample_size},
                        {"in_channels", cfg.in_channels}, {"num_layers", cfg.num_layers},
                        {"attention_head_dim", cfg.attention_head_dim},
                        {"num_attention_heads", cfg.num_attention_heads},
                        {"num_key_value_attention_heads", cfg.num_key_value_attention_heads},
                        {"out_channels", cfg.out_channels}, {"cross_attention_dim", cfg.cross_attention_dim},
                        {"time_proj_dim", cfg.time_proj_dim}, {"global_states_input_dim", cfg.global_states_input_dim},
                        {"cross_attention_input_dim", cfg.cross_attention_input_dim}};
    std::ofstream(t / "config.json") << c.dump(2) << "\n";
    save_safetensors(t / "diffusion_pytorch_model.safetensors", model.named_parameters());
}

void run_dit(const stable_audio::dit_config &cfg, c10::ScalarType dt, const inputs &in, int64_t frames, int steps,
             bool peak_reset) {
    const std::string name = dtype_name(dt);
    auto t0 = clock_type::now();
    auto model = stable_audio::dit::random(cfg, 1234, {dt, c10::kCPU});
    int64_t block_params = 0;
    for (const auto &[key, p] : model.named_parameters())
        if (key.rfind("transformer_blocks.", 0) == 0) block_params += p.numel();
    std::printf("[dit %s] random weights: %lld params (%lld of %lld blocks) in %.1f s, rss %.0f MiB\n", name.c_str(),
                (long long)model.num_parameters(), (long long)cfg.num_layers, (long long)full_layers,
                seconds_since(t0), rss_mib());

    // The peak counts from here: drawing random weights (fp32, then cast) leaves transient heap behind
    // that a checkpoint load would not; the denoising loop's own peak is what a generation costs.
    if (peak_reset) reset_peak();
    c10::InferenceMode guard;
    const auto rope = stable_audio::rotary_pos_embed(cfg.rotary_dim(), frames + 1);
    t0 = clock_type::now();
    const auto cond = model.encode_conditioning(in.text_audio.to(dt), in.global.to(dt));
    std::printf("[dit %s] conditioning (cross-attention K/V of every block, once per generation): %.3f s\n",
                name.c_str(), seconds_since(t0));

    schedulers::cosine_dpm_multistep_scheduler sched;
    sched.set_noise_seed(0);
    sched.set_timesteps(100);  // the pipeline default; only the first `steps` run
    at::Tensor latents = in.latents * sched.init_noise_sigma();
    const double guidance = 7.0;
    double fwd_sum = 0, sched_sum = 0, fwd_cpu_sum = 0, sched_cpu_sum = 0;
    int counted = 0;
    for (int i = 0; i < steps && i < sched.num_steps(); ++i) {
        const at::Tensor t = sched.timestep(i);
        t0 = clock_type::now();
        const double c0 = cpu_seconds();
        at::Tensor x = sched.scale_model_input(at::cat({latents, latents}), t);
        const at::Tensor pred = model.forward(x.to(dt), t.unsqueeze(0), *cond, rope).to(at::kFloat);
        const double fwd = seconds_since(t0);
        const double c1 = cpu_seconds();
        t0 = clock_type::now();
        const auto parts = pred.chunk(2);
        latents = sched.step(parts[0] + guidance * (parts[1] - parts[0]), t, latents);
        const double st = seconds_since(t0);
        const double fwd_cpu = c1 - c0, sched_cpu = cpu_seconds() - c1;
        // Same weights and inputs as the diffusers run: step 1's prediction agrees (a loading check).
        if (i == 0) std::printf("[dit %s] step 1 prediction mean |v| = %.6g\n", name.c_str(), pred.abs().mean().item<double>());
        std::printf("[dit %s] step %d: forward (CFG batch 2) %.3f s wall / %.2f CPU-s + CFG/scheduler %.4f s wall / "
                    "%.3f CPU-s  (rss %.0f MiB)\n",
                    name.c_str(), i + 1, fwd, fwd_cpu, st, sched_cpu, rss_mib());
        std::fflush(stdout);
        if (i == 0 && steps > 1) continue;  // the first step pays one-off allocations and the noise tree
        fwd_sum += fwd;
        sched_sum += st;
        fwd_cpu_sum += fwd_cpu;
        sched_cpu_sum += sched_cpu;
        ++counted;
    }
    if (counted == 0) return;
    const double fwd = fwd_sum / counted, st = sched_sum / counted;
    const double fwd_cpu = fwd_cpu_sum / counted, sched_cpu = sched_cpu_sum / counted;
    const double peak = peak_mib();
    std::printf("[dit %s] MEASURED %lld blocks, %lld frames: per step %.3f s wall, %.2f CPU-s (forward %.3f s / %.2f "
                "CPU-s + scheduler %.4f s / %.3f CPU-s)%s; peak RSS %.0f MiB%s\n",
                name.c_str(), (long long)cfg.num_layers, (long long)frames, fwd + st, fwd_cpu + sched_cpu, fwd, fwd_cpu,
                st, sched_cpu,
                steps > 1 ? " (mean excluding step 1)" : "", peak, peak_reset ? "" : " (since process start)");
    if (cfg.num_layers != full_layers) {
        const double scale = double(full_layers) / double(cfg.num_layers);
        const double bytes = double(c10::elementSize(dt));
        const double extra_mib = double(block_params) / double(cfg.num_layers) * double(full_layers - cfg.num_layers) *
                                 bytes / (1024.0 * 1024.0);
        std::printf("[dit %s] EXTRAPOLATED to %lld blocks (forward x %.1f, weights + %.0f MiB): per step %.3f s "
                    "wall, %.2f CPU-s (forward %.3f s / %.2f CPU-s + scheduler %.4f s / %.3f CPU-s); peak RSS ~%.0f "
                    "MiB; 100 steps ~%.0f s wall\n",
                    name.c_str(), (long long)full_layers, scale, extra_mib, fwd * scale + st,
                    fwd_cpu * scale + sched_cpu, fwd * scale, fwd_cpu * scale, st, sched_cpu, peak + extra_mib,
                    100 * (fwd * scale + st));
    }
}

void run_vae(const fs::path &vae_dir, c10::ScalarType dt, const at::Tensor &latents, bool peak_reset) {
    auto t0 = clock_type::now();
    auto vae = oobleck::vae::load(vae_dir, {dt, c10::kCPU});
    std::printf("[vae %s] loaded %s in %.1f s, rss %.0f MiB\n", dtype_name(dt).c_str(), vae.describe().c_str(),
                seconds_since(t0), rss_mib());
    if (peak_reset) reset_peak();  // the decode's peak, with the weights resident
    c10::InferenceMode guard;
    t0 = clock_type::now();
    const double c0 = cpu_seconds();
    at::Tensor audio = vae.decode(latents);
    const double s = seconds_since(t0), cpu = cpu_seconds() - c0;
    std::printf("[vae %s] MEASURED decode [1, %lld, %lld] -> [%lld, %lld, %lld] (%.2f s of audio): %.2f s wall, "
                "%.1f CPU-s; "
                "peak RSS %.0f MiB%s\n",
                dtype_name(dt).c_str(), (long long)latents.size(1), (long long)latents.size(2),
                (long long)audio.size(0), (long long)audio.size(1), (long long)audio.size(2),
                double(audio.size(2)) / double(vae.config().sampling_rate), s, cpu, peak_mib(),
                peak_reset ? "" : " (since process start)");
}

int usage(const char *argv0, int rc) {
    std::fprintf(rc ? stderr : stdout,
                 "usage: %s [--layers N] [--steps N] [--threads N] [--dtype fp32|bf16|both] [--seconds S] "
                 "[--part dit|vae|all] [--vae-dtype fp32|bf16] [--save-random DIR] [--save-only] [--no-allocator-tuning]\n",
                 argv0);
    return rc;
}

}  // namespace

int main(int argc, char **argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows when piped (the side-by-side script tees it)
    int layers = 2, steps = 3, threads = 0;
    double seconds = -1;
    bool tune = true, save_only = false;
    std::string dtype = "both", part = "all", vae_dtype = "fp32";
    fs::path save_dir;
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
        else if (a == "--steps") steps = std::atoi(next().c_str());
        else if (a == "--threads") threads = std::atoi(next().c_str());
        else if (a == "--dtype") dtype = next();
        else if (a == "--seconds") seconds = std::atof(next().c_str());
        else if (a == "--part") part = next();
        else if (a == "--vae-dtype") vae_dtype = next();
        else if (a == "--save-random") save_dir = next();
        else if (a == "--save-only") save_only = true;
        else if (a == "--no-allocator-tuning") tune = false;
        else if (a == "-h" || a == "--help") return usage(argv[0], 0);
        else return usage(argv[0], 2);
    }
    if (layers < 1 || layers > full_layers || steps < 1 || (part != "dit" && part != "vae" && part != "all") ||
        (dtype != "fp32" && dtype != "bf16" && dtype != "both"))
        return usage(argv[0], 2);
    if (save_only && save_dir.empty()) {
        std::fprintf(stderr, "--save-only needs --save-random DIR\n");
        return 2;
    }
    try {
        const bool tuned = tune && tune_allocator();
        configure_threads(threads);
        stable_audio::dit_config cfg;  // Stable Audio Open 1.0's StableAudioDiTModel
        cfg.num_layers = layers;
        const oobleck::oobleck_config vcfg;  // and its AutoencoderOobleck (44.1 kHz, hop 2048)
        const double max_seconds = double(cfg.sample_size * vcfg.hop_length()) / double(vcfg.sampling_rate);
        if (seconds <= 0) seconds = max_seconds;
        const auto frames =
            static_cast<int64_t>(std::ceil(seconds * double(vcfg.sampling_rate) / double(vcfg.hop_length()) - 1e-9));
        {
            std::ifstream la("/proc/loadavg");
            std::string l1, l5;
            la >> l1 >> l5;
            std::printf("Stable Audio Open 1.0 shapes, random weights. %.2f s of audio -> %lld latent frames "
                        "(%lld x %lld / %lld = %.2f s max; the pipeline always runs %lld)\n",
                        seconds, (long long)frames, (long long)cfg.sample_size, (long long)vcfg.hop_length(),
                        (long long)vcfg.sampling_rate, max_seconds, (long long)cfg.sample_size);
            std::printf("intra-op threads %d, BLAS %s, OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s, allocator tuning %s, "
                        "load average %s %s, %ld CPUs online\n",
                        at::get_num_threads(), blas_info().c_str(), env_or_unset("OPENBLAS_CORETYPE").c_str(),
                        env_or_unset("OPENBLAS_L2_SIZE").c_str(), tuned ? "on" : "off", l1.c_str(), l5.c_str(),
                        sysconf(_SC_NPROCESSORS_ONLN));
        }
        const inputs in = make_inputs(cfg, frames);

        fs::path vae_dir;
        fs::path temp_dir;
        if (!save_dir.empty()) {
            auto t0 = clock_type::now();
            fs::create_directories(save_dir);
            save_dit(save_dir, cfg);
            omnihost::tools::write_demo_stable_audio_model(save_dir / "oobleck", oobleck_options());
            save_safetensors(save_dir / "inputs.safetensors", {{"latents", in.latents},
                                                               {"text_audio", in.text_audio},
                                                               {"global", in.global},
                                                               {"vae_latents", in.vae_latents}});
            std::printf("saved transformer/ (%d blocks, fp32), oobleck/vae/ and inputs.safetensors to %s in %.1f s\n",
                        layers, save_dir.string().c_str(), seconds_since(t0));
            vae_dir = save_dir / "oobleck" / "vae";
        }
        if (save_only) return 0;

        std::vector<c10::ScalarType> dts;
        if (dtype != "bf16") dts.push_back(c10::kFloat);
        if (dtype != "fp32") dts.push_back(c10::kBFloat16);
        if (part != "vae")
            for (auto dt : dts) {
                const bool reset = reset_peak();
                run_dit(cfg, dt, in, frames, steps, reset);
            }
        if (part != "dit") {
            if (vae_dir.empty()) {
                temp_dir = fs::temp_directory_path() / ("bench_stable_audio_" + std::to_string(getpid()));
                fs::remove_all(temp_dir);
                auto t0 = clock_type::now();
                omnihost::tools::write_demo_stable_audio_model(temp_dir, oobleck_options());
                std::printf("[vae] wrote random Oobleck weights to %s in %.1f s\n", temp_dir.string().c_str(),
                            seconds_since(t0));
                vae_dir = temp_dir / "vae";
            }
            const bool reset = reset_peak();
            try {
                run_vae(vae_dir, parse_dtype(vae_dtype), in.vae_latents, reset);
            } catch (...) {
                if (!temp_dir.empty()) fs::remove_all(temp_dir);
                throw;
            }
            if (!temp_dir.empty()) fs::remove_all(temp_dir);
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "bench_stable_audio: %s\n", e.what());
        return 1;
    }
    return 0;
}
