#!/usr/bin/env python3
"""diffusers counterpart of bench_stable_audio (prints, never asserts).

Loads the folder `bench_stable_audio --save-random DIR` wrote (transformer/, oobleck/vae/,
inputs.safetensors) and times what diffusers' StableAudioPipeline does per denoising step:
StableAudioDiTModel on the CFG batch of 2, the CFG combine and CosineDPMSolverMultistepScheduler.step
(torchsde Brownian-tree noise), then AutoencoderOobleck.decode of one waveform. Same weights, same
inputs, same latent length and thread count as the C++ run; the output lines use the same labels so
scripts/bench_stable_audio_side_by_side.sh can put them side by side.

  bench_stable_audio_diffusers.py DIR [--dtype fp32|bf16|both] [--steps N] [--threads N]
                                      [--part dit|vae|all] [--vae-dtype fp32|bf16]
"""
import argparse
import ctypes
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from side_by_side import cpu_seconds, load_average, set_threads, status_mib, torch_dtype  # noqa: E402

FULL_LAYERS = 24


def reset_peak():
    """New peak-RSS window: freed heap back to the kernel, then reset the high-water mark."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def run_dit(torch, model_dir, dt, name, inputs, steps, peak_reset):
    from diffusers import CosineDPMSolverMultistepScheduler, StableAudioDiTModel
    from diffusers.models.embeddings import get_1d_rotary_pos_embed

    t0 = time.perf_counter()
    model = StableAudioDiTModel.from_pretrained(os.path.join(model_dir, "transformer"), torch_dtype=dt).eval()
    cfg = model.config
    block_params = sum(p.numel() for k, p in model.named_parameters() if k.startswith("transformer_blocks."))
    total_params = sum(p.numel() for p in model.parameters())
    print(f"[dit {name}] loaded {total_params} params ({cfg.num_layers} of {FULL_LAYERS} blocks) in "
          f"{time.perf_counter() - t0:.1f} s, rss {status_mib('VmRSS'):.0f} MiB", flush=True)

    if peak_reset:
        reset_peak()  # as the C++ side: the peak of the steps, weights resident, not of loading
    # As the pipeline: embeddings and latents in the model dtype, rope table in fp32.
    text_audio = inputs["text_audio"].to(dt)
    glob = inputs["global"].to(dt)
    frames = inputs["latents"].shape[2]
    rope = get_1d_rotary_pos_embed(cfg.attention_head_dim // 2, frames + glob.shape[1], use_real=True,
                                   repeat_interleave_real=False)
    sched = CosineDPMSolverMultistepScheduler(sigma_min=0.3, sigma_max=500.0, sigma_data=1.0,
                                              sigma_schedule="exponential", solver_order=2,
                                              prediction_type="v_prediction", solver_type="midpoint")
    sched.set_timesteps(100)
    gen = torch.Generator().manual_seed(0)
    latents = (inputs["latents"] * sched.init_noise_sigma).to(dt)
    guidance = 7.0
    fwd_sum = sched_sum = fwd_cpu_sum = sched_cpu_sum = 0.0
    counted = 0
    with torch.inference_mode():
        for i, t in enumerate(sched.timesteps[:steps]):
            t0 = time.perf_counter()
            c0 = cpu_seconds()
            x = sched.scale_model_input(torch.cat([latents] * 2), t)
            pred = model(x, t.unsqueeze(0), encoder_hidden_states=text_audio, global_hidden_states=glob,
                         rotary_embedding=rope, return_dict=False)[0]
            fwd = time.perf_counter() - t0
            c1 = cpu_seconds()
            t0 = time.perf_counter()
            u, c = pred.chunk(2)
            latents = sched.step(u + guidance * (c - u), t, latents, generator=gen).prev_sample
            st = time.perf_counter() - t0
            fwd_cpu, sched_cpu = c1 - c0, cpu_seconds() - c1
            if i == 0:
                print(f"[dit {name}] step 1 prediction mean |v| = {pred.float().abs().mean().item():.6g}")
            print(f"[dit {name}] step {i + 1}: forward (CFG batch 2) {fwd:.3f} s wall / {fwd_cpu:.2f} CPU-s + "
                  f"CFG/scheduler {st:.4f} s wall / {sched_cpu:.3f} CPU-s  (rss {status_mib('VmRSS'):.0f} MiB)",
                  flush=True)
            if i == 0 and steps > 1:
                continue
            fwd_sum += fwd
            sched_sum += st
            fwd_cpu_sum += fwd_cpu
            sched_cpu_sum += sched_cpu
            counted += 1
    if counted == 0:
        return
    fwd, st = fwd_sum / counted, sched_sum / counted
    fcpu, scpu = fwd_cpu_sum / counted, sched_cpu_sum / counted
    peak = status_mib("VmHWM")
    excl = " (mean excluding step 1)" if steps > 1 else ""
    since = "" if peak_reset else " (since process start)"
    print(f"[dit {name}] MEASURED {cfg.num_layers} blocks, {frames} frames: per step {fwd + st:.3f} s wall, "
          f"{fcpu + scpu:.2f} CPU-s (forward {fwd:.3f} s / {fcpu:.2f} CPU-s + scheduler {st:.4f} s / {scpu:.3f} CPU-s)"
          f"{excl}; peak RSS {peak:.0f} MiB{since}", flush=True)
    if cfg.num_layers != FULL_LAYERS:
        scale = FULL_LAYERS / cfg.num_layers
        extra = block_params / cfg.num_layers * (FULL_LAYERS - cfg.num_layers) * torch.finfo(dt).bits / 8 / 2**20
        print(f"[dit {name}] EXTRAPOLATED to {FULL_LAYERS} blocks (forward x {scale:.1f}, weights + {extra:.0f} MiB): "
              f"per step {fwd * scale + st:.3f} s wall, {fcpu * scale + scpu:.2f} CPU-s (forward {fwd * scale:.3f} s / "
              f"{fcpu * scale:.2f} CPU-s + scheduler {st:.4f} s / {scpu:.3f} CPU-s); peak RSS ~{peak + extra:.0f} MiB; "
              f"100 steps ~{100 * (fwd * scale + st):.0f} s wall", flush=True)


def run_vae(torch, model_dir, dt, name, latents, peak_reset):
    from diffusers import AutoencoderOobleck

    t0 = time.perf_counter()
    vae = AutoencoderOobleck.from_pretrained(os.path.join(model_dir, "oobleck", "vae"), torch_dtype=dt).eval()
    print(f"[vae {name}] loaded AutoencoderOobleck (encoder + decoder) in {time.perf_counter() - t0:.1f} s, "
          f"rss {status_mib('VmRSS'):.0f} MiB", flush=True)
    if peak_reset:
        reset_peak()
    with torch.inference_mode():
        t0 = time.perf_counter()
        c0 = cpu_seconds()
        audio = vae.decode(latents.to(dt)).sample
        s = time.perf_counter() - t0
        cpu = cpu_seconds() - c0
    since = "" if peak_reset else " (since process start)"
    print(f"[vae {name}] MEASURED decode [1, {latents.shape[1]}, {latents.shape[2]}] -> {list(audio.shape)} "
          f"({audio.shape[2] / vae.config.sampling_rate:.2f} s of audio): {s:.2f} s wall, {cpu:.1f} CPU-s; "
          f"peak RSS {status_mib('VmHWM'):.0f} MiB{since}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("--dtype", choices=["fp32", "bf16", "both"], default="both")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="<= 0: every core (as the C++ bench)")
    ap.add_argument("--part", choices=["dit", "vae", "all"], default="all")
    ap.add_argument("--vae-dtype", choices=["fp32", "bf16"], default="fp32")
    a = ap.parse_args()
    if a.steps < 1:
        ap.error("--steps must be >= 1")

    import torch
    import diffusers
    from safetensors.torch import load_file

    set_threads(torch, a.threads, os.cpu_count())
    load = load_average(2)
    blas = "MKL" if torch.backends.mkl.is_available() else "other"
    print(f"diffusers {diffusers.__version__}, torch {torch.__version__}, intra-op threads {torch.get_num_threads()}, "
          f"BLAS {blas}, oneDNN {torch.backends.mkldnn.is_available()}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}, load average {load}", flush=True)
    inputs = load_file(os.path.join(a.model_dir, "inputs.safetensors"))
    names = ["fp32", "bf16"] if a.dtype == "both" else [a.dtype]
    if a.part != "vae":
        for n in names:
            run_dit(torch, a.model_dir, torch_dtype(torch, n), n, inputs, a.steps, reset_peak())
    if a.part != "dit":
        run_vae(torch, a.model_dir, torch_dtype(torch, a.vae_dtype), a.vae_dtype, inputs["vae_latents"], reset_peak())
    return 0


if __name__ == "__main__":
    sys.exit(main())
