// device_check: the CUDA side of issue 11's device work that the CPU tests cannot reach, for
// scripts/gpu_check.sh. On a small random Wan transformer (bf16 or fp32) on the given device:
//   1. model offload (core/offload.h): the transformer waits on the CPU, moves in to run, goes
//      back; its output must be bit-identical to the same forward with the weights resident;
//   2. sequential (per-block) offload policy: block moves observed in order;
//   3. peak device memory (core/device_memory.h): a positive peak after a reset;
//   4. enforce_eager=false (core/device_graph.h): the step captured in a device graph and
//      replayed on new inputs must match the eager forward (bit-identical expected; reported);
//   5. the same for Stable Audio, as its pipeline runs it (core/step_graph_cache.h): a small random
//      StableAudioDiT's CFG-batch step, captured on the first step and replayed on the next ones
//      with new latents and timesteps, each matching the eager forward. On the CPU (or a libtorch
//      without graph capture) the decision is "eager" and the steps must be bit-identical.
// Exit 0 when all pass, 1 on a failure, 3 when the device is not usable here.
#include "core/device_graph.h"
#include "core/device_memory.h"
#include "core/offload.h"
#include "core/runtime.h"
#include "core/step_graph_cache.h"
#include "stable_audio_dit/sa_dit.h"
#include "stable_audio_dit/sa_rope.h"
#include "wan_transformer/wan_transformer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace wan = omnihost::models::wan;
namespace sa = omnihost::models::stable_audio;
namespace models = omnihost::models;

namespace {

int failures = 0;

void check(bool ok, const std::string &what) {
    std::printf("device_check: %s: %s\n", ok ? "PASS" : "FAIL", what.c_str());
    if (!ok) ++failures;
}

double max_abs(const at::Tensor &a, const at::Tensor &b) {
    return (a.to(at::kCPU, at::kFloat) - b.to(at::kCPU, at::kFloat)).abs().max().item<double>();
}

// 5. The Stable Audio pipeline's step through step_graph_cache, with the decision the pipeline
// makes for enforce_eager=false on this device.
void check_stable_audio_step(const c10::Device &device, c10::ScalarType dtype) {
    sa::dit_config cfg;  // Stable Audio Open's layout, smaller: 4 heads x 64, 2 K/V heads, 2 layers
    cfg.sample_size = 128;
    cfg.in_channels = 16;
    cfg.out_channels = 16;
    cfg.num_layers = 2;
    cfg.attention_head_dim = 64;
    cfg.num_attention_heads = 4;
    cfg.num_key_value_attention_heads = 2;
    cfg.cross_attention_dim = 128;
    cfg.cross_attention_input_dim = 128;
    cfg.global_states_input_dim = 256;
    const sa::dit model = sa::dit::random(cfg, 17, {dtype, device});
    at::Generator gen = at::detail::createCPUGenerator(9);
    const auto f32 = at::TensorOptions().dtype(at::kFloat);
    // CFG batch [negative, positive]: text + two seconds tokens, and the global token.
    const at::Tensor text = at::randn({2, 10, cfg.cross_attention_input_dim}, gen, f32).to(device, dtype);
    const at::Tensor global = at::randn({2, 1, cfg.global_states_input_dim}, gen, f32).to(device, dtype);
    const auto cond = model.encode_conditioning(text, global);
    const sa::rotary_table rope = sa::rotary_pos_embed(cfg.rotary_dim(), cfg.sample_size + 1, device);

    const models::step_graph_decision decision = models::decide_step_graphs(false, device);
    std::printf("device_check: stable audio: %s\n", decision.message.c_str());
    int warnings = 0;
    models::step_graph_cache graphs(decision.capture, 1, [&](bool warn, const std::string &m) {
        std::printf("device_check: stable audio: %s%s\n", warn ? "warning: " : "", m.c_str());
        warnings += warn ? 1 : 0;
    });
    const models::device_graph::step_fn step = [&](const std::vector<at::Tensor> &in) {
        return model.forward(in[0], in[1], *cond, rope);
    };
    double worst = 0;
    bool identical = true;
    try {
        for (int i = 0; i < 3; ++i) {
            const at::Tensor x = at::randn({2, cfg.in_channels, cfg.sample_size}, gen, f32).to(device, dtype);
            const at::Tensor t = at::full({1}, 0.9f - 0.3f * float(i), f32).to(device);
            const at::Tensor stepped = graphs.run(0, "stable audio DiT on the CFG batch of 2", {x, t}, step);
            const at::Tensor eager = model.forward(x, t, *cond, rope);
            worst = std::max(worst, max_abs(stepped, eager));
            identical = identical && at::equal(stepped, eager);
        }
    } catch (const std::exception &e) {
        check(false, std::string("stable audio step: ") + e.what());
        return;
    }
    std::printf("device_check: stable audio: %s steps vs eager max_abs %g (%s)\n",
                decision.capture ? "graph-replayed" : "eager", worst, identical ? "bit-identical" : "not bit-identical");
    check(warnings == 0, "stable audio: no failed capture");
    if (decision.capture) {
        check(graphs.captured() == 1, "stable audio: the step captured once and replayed");
        check(worst <= (dtype == c10::kFloat ? 1e-5 : 5e-2), "stable audio: graph replay matches the eager forward");
    } else {
        check(identical, "stable audio: eager steps bit-identical to the forward");
    }
}

}  // namespace

int main(int argc, char **argv) {
    std::string device_text = "cuda", dtype_text = "bf16";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--device") device_text = argv[i + 1];
        else if (a == "--dtype") dtype_text = argv[i + 1];
    }
    c10::Device device(c10::kCPU);
    c10::ScalarType dtype = c10::kFloat;
    try {
        device = models::parse_device(device_text);
        dtype = models::parse_dtype(dtype_text);
    } catch (const std::exception &e) {
        std::printf("device_check: device not usable: %s\n", e.what());
        return 3;
    }
    at::NoGradGuard no_grad;
    wan::wan_transformer_config cfg;
    cfg.num_attention_heads = 4;
    cfg.attention_head_dim = 64;
    cfg.text_dim = 256;
    cfg.ffn_dim = 1024;
    cfg.num_layers = 4;
    auto model = wan::wan_transformer::random(cfg, 11, {dtype, c10::kCPU});
    at::Generator gen = at::detail::createCPUGenerator(5);
    const auto f32 = at::TensorOptions().dtype(at::kFloat);
    const at::Tensor x_cpu = at::randn({1, 16, 5, 32, 48}, gen, f32);
    const at::Tensor ctx_cpu = at::randn({1, 64, cfg.text_dim}, gen, f32);
    const at::Tensor x = x_cpu.to(device, dtype), t = at::full({1}, 999.0f, f32).to(device);

    // 1. model offload against resident weights.
    std::vector<std::string> moves;
    models::model_offloader off(true, device, [&](const std::string &c, const c10::Device &d) {
        moves.push_back(c + "@" + d.str());
    });
    off.add("transformer", [&](const c10::Device &d) { model.to(d); });
    models::reset_memory_peak(device.str());
    off.activate("transformer");
    const bool moved_in = model.device() == device;
    auto text = model.encode_text(ctx_cpu.to(device, dtype));
    const at::Tensor offloaded = model.forward(x, t, *text).clone();
    text.reset();
    off.release_all();
    check(moved_in && model.device().is_cpu(), "model offload moves the transformer in to run and back to the CPU");
    check(moves == std::vector<std::string>{"transformer@" + device.str(), "transformer@cpu"}, "model offload order");
    model.to(device);
    auto resident_text = model.encode_text(ctx_cpu.to(device, dtype));
    const at::Tensor resident = model.forward(x, t, *resident_text);
    check(at::equal(offloaded, resident), "offloaded forward bit-identical to the resident one (max_abs " +
                                              std::to_string(max_abs(offloaded, resident)) + ")");
    const models::memory_reading mem = models::read_memory(device.str());
    std::printf("device_check: peak %s on %s (%s)\n", models::format_bytes(mem.peak_bytes).c_str(), mem.device.c_str(),
                mem.measure.c_str());
    check(mem.peak_bytes > 0, "peak device memory measured");

    // 2. sequential offload policy (the transformer has no per-block hook yet: policy only).
    std::vector<std::string> block_moves;
    models::block_offloader blocks(true, device, "transformer", {}, [&](const std::string &c, const c10::Device &d) {
        block_moves.push_back(c + "@" + d.str());
    });
    for (size_t i = 0; i < 2; ++i) {
        blocks.before(i);
        blocks.after(i);
    }
    check(block_moves == std::vector<std::string>{"transformer.block 0@" + device.str(), "transformer.block 0@cpu",
                                                  "transformer.block 1@" + device.str(), "transformer.block 1@cpu"},
          "sequential offload order");

    // 4. device graph: capture once, replay on new inputs, compare with eager.
    if (!models::device_graphs_available(device)) {
        std::printf("device_check: SKIPPED: graph capture (not available for %s with this libtorch)\n", device.str().c_str());
    } else {
        try {
            models::device_graph g({x, t}, [&](const std::vector<at::Tensor> &in) {
                return model.forward(in[0], in[1], *resident_text);
            });
            const at::Tensor x2 = at::randn({1, 16, 5, 32, 48}, gen, f32).to(device, dtype);
            const at::Tensor t2 = at::full({1}, 500.0f, f32).to(device);
            const at::Tensor replayed = g.replay({x2, t2});
            const at::Tensor eager = model.forward(x2, t2, *resident_text);
            const double d = max_abs(replayed, eager);
            std::printf("device_check: graph replay vs eager max_abs %g (%s)\n", d,
                        at::equal(replayed, eager) ? "bit-identical" : "not bit-identical");
            check(d <= (dtype == c10::kFloat ? 1e-5 : 5e-2), "graph replay matches the eager forward");
        } catch (const std::exception &e) {
            check(false, std::string("graph capture: ") + e.what());
        }
    }
    check_stable_audio_step(device, dtype);
    std::printf("device_check: %s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
