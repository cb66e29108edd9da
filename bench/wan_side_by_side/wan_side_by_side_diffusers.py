#!/usr/bin/env python3
"""diffusers side of scripts/bench_wan_side_by_side.sh (dev tooling; prints, never asserts).

One measurement per process, so every peak RSS (VmHWM at the end) is that measurement's own. The
inputs are drawn exactly as the omnihost benches draw them (same generators, seeds and shapes), and
the output lines use the omnihost benches' wording so the script can read both sides alike.

  wan_side_by_side_diffusers.py transformer --model DIR --dtype fp32|bf16 [--forwards N] [--latent FxHxW]
  wan_side_by_side_diffusers.py vae --weights DIR --mode untiled|tiled [--height H] [--width W]
                                    [--frames F] [--tile PX] [--stride PX]
  wan_side_by_side_diffusers.py mp4 --rgb FILE --mp4 FxHxW
  common: [--threads N] (0: torch's default)
"""
import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from side_by_side import cpu_seconds, load_average, set_threads, status_mib, torch_dtype  # noqa: E402


def header(torch, args):
    set_threads(torch, args.threads)
    print(f"diffusers side: torch {torch.__version__} ({os.path.dirname(torch.__file__)}), "
          f"{torch.get_num_threads()} threads, load average (1 min) {load_average()}", flush=True)


def triple(text, what):
    parts = text.split("x")
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        sys.exit(f"{what} needs AxBxC (positive integers), got {text}")
    return tuple(int(p) for p in parts)


def run_transformer(args):
    import torch
    from diffusers import WanTransformer3DModel

    header(torch, args)
    dt = torch_dtype(torch, args.dtype)
    t0 = time.perf_counter()
    model = WanTransformer3DModel.from_pretrained(args.model, torch_dtype=dt).eval()
    cfg = model.config
    print(f"[model] loaded {sum(p.numel() for p in model.parameters())} params, {cfg.num_layers} layers in "
          f"{time.perf_counter() - t0:.1f} s, rss {status_mib('VmRSS'):.0f} MiB", flush=True)
    lf, lh, lw = triple(args.latent, "--latent")
    # bench_wan_transformer's run(): one CPU generator seeded 7, latents then text; timestep 999.
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(1, cfg.in_channels, lf, lh, lw, generator=gen)
    text = torch.randn(1, 512, cfg.text_dim, generator=gen)
    t = torch.tensor([999])
    # As WanPipeline: latents and prompt embeddings in the transformer dtype.
    x, text = x.to(dt), text.to(dt)
    total = first = 0.0
    cpu_total = cpu_first = 0.0
    with torch.inference_mode():
        for i in range(args.forwards):
            c0, t0 = cpu_seconds(), time.perf_counter()
            y = model(hidden_states=x, timestep=t, encoder_hidden_states=text, return_dict=False)[0]
            s, c = time.perf_counter() - t0, cpu_seconds() - c0
            if i == 0:
                first, cpu_first = s, c
            total += s
            cpu_total += c
            print(f"[model] forward {i + 1}: {s:.3f} s, {c:.1f} CPU-s  (rss {status_mib('VmRSS'):.0f} MiB, peak "
                  f"{status_mib('VmHWM'):.0f} MiB)  mean |v| = {y.float().abs().mean().item():.6f}", flush=True)
    n = args.forwards
    per = (total - first) / (n - 1) if n > 1 else first
    cpu_per = (cpu_total - cpu_first) / (n - 1) if n > 1 else cpu_first
    print(f"[model] per forward {per:.3f} s ({cpu_per:.1f} CPU-s){' (excluding the first)' if n > 1 else ''}; "
          f"per denoising step with CFG (2 forwards) {2 * per:.3f} s; peak RSS {status_mib('VmHWM'):.0f} MiB "
          f"(text embedder and cross-attention K/V run inside every forward here)", flush=True)


def run_vae(args):
    import torch
    from diffusers import AutoencoderKLWan

    header(torch, args)
    t0 = time.perf_counter()
    vae = AutoencoderKLWan.from_pretrained(args.weights, torch_dtype=torch.float32).eval()
    load_s = time.perf_counter() - t0
    rss_loaded = status_mib("VmRSS")
    if args.mode == "tiled":
        vae.enable_tiling(tile_sample_min_height=args.tile, tile_sample_min_width=args.tile,
                          tile_sample_stride_height=args.stride, tile_sample_stride_width=args.stride)
    s = vae.config.scale_factor_spatial
    # bench_wan_vae's child: at::manual_seed(1), randn of the latent.
    torch.manual_seed(1)
    latents = torch.randn(1, vae.config.z_dim, (args.frames - 1) // 4 + 1, args.height // s, args.width // s)
    c0, t0 = cpu_seconds(), time.perf_counter()
    with torch.inference_mode():
        # WanPipeline's de-normalisation, then decode (clamped to [-1, 1] inside, as omnihost's).
        mean = torch.tensor(vae.config.latents_mean).view(1, vae.config.z_dim, 1, 1, 1).to(latents.dtype)
        inv_std = 1.0 / torch.tensor(vae.config.latents_std).view(1, vae.config.z_dim, 1, 1, 1).to(latents.dtype)
        video = vae.decode(latents / inv_std + mean, return_dict=False)[0]
    decode_s, decode_cpu = time.perf_counter() - t0, cpu_seconds() - c0
    print(f"  {args.mode:<8} threads {torch.get_num_threads()}  load {load_s:.2f} s  decode {decode_s:.2f} s  "
          f"({decode_cpu:.1f} CPU-s)  RSS after load {rss_loaded:.0f} MiB  output {list(video.shape)}", flush=True)
    print(f"  {args.mode:<8} peak RSS {status_mib('VmHWM'):.0f} MiB", flush=True)


def run_mp4(args):
    import numpy as np

    frames, height, width = triple(args.mp4, "--mp4")
    rgb = np.fromfile(args.rgb, dtype=np.uint8)
    if rgb.size != frames * height * width * 3:
        sys.exit(f"{args.rgb}: {rgb.size} bytes, expected {frames * height * width * 3}")
    # What WanPipeline(output_type="np") hands to export_to_video: float frames in [0, 1].
    video = list((rgb.reshape(frames, height, width, 3).astype(np.float32) / 255.0))
    from diffusers.utils import export_to_video
    import imageio_ffmpeg

    out = args.rgb + ".diffusers.mp4"
    def cpu_with_children():  # libx264 runs in imageio-ffmpeg's ffmpeg process
        ru, rc = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime + rc.ru_utime + rc.ru_stime

    c0, t0 = cpu_with_children(), time.perf_counter()
    export_to_video(video, out, fps=16)  # imageio-ffmpeg, libx264, quality 5 (crf 25), yuv420p
    s, c = time.perf_counter() - t0, cpu_with_children() - c0
    print(f"[mp4] {frames} frames {width}x{height} -> {os.path.getsize(out) / 1e6:.2f} MB in {s:.2f} s ({c:.1f} CPU-s; "
          f"diffusers export_to_video, imageio-ffmpeg {imageio_ffmpeg.get_ffmpeg_version()}, quality 5)", flush=True)
    os.remove(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=["transformer", "vae", "mp4"])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--model")
    ap.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--forwards", type=int, default=2)
    ap.add_argument("--latent", default="5x32x32")
    ap.add_argument("--weights")
    ap.add_argument("--mode", default="untiled", choices=["untiled", "tiled"])
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--frames", type=int, default=17)
    ap.add_argument("--tile", type=int, default=256)
    ap.add_argument("--stride", type=int, default=192)
    ap.add_argument("--rgb")
    ap.add_argument("--mp4", default="81x480x832")
    args = ap.parse_args()
    if args.part == "transformer" and not args.model:
        ap.error("transformer needs --model")
    if args.part == "vae" and not args.weights:
        ap.error("vae needs --weights")
    if args.part == "mp4" and not args.rgb:
        ap.error("mp4 needs --rgb")
    {"transformer": run_transformer, "vae": run_vae, "mp4": run_mp4}[args.part](args)


if __name__ == "__main__":
    main()
