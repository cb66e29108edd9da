#!/usr/bin/env python3
"""Wan VAE encoder goldens (AutoencoderKLWan.encode) from diffusers, on the tiny random VAEs of the
shared golden set (<golden>/wan21_tiny/vae: Wan2.1 type; <golden>/wan22_ti2v_tiny/vae: Wan2.2 type,
patch size 2, residual down blocks). Those checkpoints carry the encoder.* and quant_conv.* weights
the shared decode cases never used, so no new model is made here.

Writes tests/golden_local/wan_vae_encode_cases/NAME.{safetensors,json} (same layout as the shared
golden set: the call, every parameter, the tensor list and the tolerance):
  video                     input [B, 3, F, H, W] in [-1, 1]: torch.rand(Generator().manual_seed(seed)) * 2 - 1
  latent_dist_mean          vae.encode(video).latent_dist.mode() (= the mean half of the moments)
  latent_dist_logvar        the clamped log-variance half (checks the moments' split)
  latents                   the normalised latent as WanImageToVideoPipeline.prepare_latents makes it:
                            (mean.to(float32) - latents_mean) * (1.0 / latents_std)
  plus, per variant, the same video encoded without slicing (latent_dist_mean_batched) or without
  tiling (latent_dist_mean_untiled).

Run with the versions pinned below (the venv: pip install torch==<TORCH> diffusers==<DIFFUSERS>
safetensors); other versions are refused unless --any-version is given. Usage:
  python scripts/golden/make_wan_vae_encode_cases.py --golden /path/to/shared/golden
"""
import argparse
import json
import os
import sys

PINNED = {"torch": "2.15.0", "diffusers": "0.42.1"}
SCRIPT = "scripts/golden/make_wan_vae_encode_cases.py"
TOLERANCE = {"atol": 1e-05, "rtol": 1e-05}
TOLERANCE_NOTE = ("made with torch 2.15 (float32, CPU); libtorch 1.13 / other BLAS builds may differ by a "
                  "few ulps per conv, which the atol covers at these tiny widths")

# name, model folder (under the golden root), batch, frames, height, width, seed, options
CASES = [
    ("wan21_encode", "wan21_tiny/vae", 1, 9, 16, 24, 11, {}),
    ("wan21_encode_image", "wan21_tiny/vae", 1, 1, 24, 32, 12, {}),
    # 7 frames: diffusers runs 1 + (7 - 1) // 4 = 2 chunks, frames 5 and 6 are not encoded.
    ("wan21_encode_7_frames", "wan21_tiny/vae", 1, 7, 16, 24, 13, {}),
    ("wan21_encode_sliced", "wan21_tiny/vae", 2, 5, 16, 24, 14, {"use_slicing": True}),
    ("wan21_encode_tiled", "wan21_tiny/vae", 1, 5, 40, 48, 15,
     {"use_tiling": True, "tile_sample_min_height": 32, "tile_sample_min_width": 32,
      "tile_sample_stride_height": 16, "tile_sample_stride_width": 24}),
    ("wan22_encode", "wan22_ti2v_tiny/vae", 1, 5, 32, 48, 21, {}),
    ("wan22_encode_image", "wan22_ti2v_tiny/vae", 1, 1, 32, 32, 22, {}),
    ("wan22_encode_sliced", "wan22_ti2v_tiny/vae", 2, 5, 16, 32, 23, {"use_slicing": True}),
    # Wan2.2 tiles in patchified pixels (diffusers' tiled_encode runs after patchify).
    ("wan22_encode_tiled", "wan22_ti2v_tiny/vae", 1, 5, 48, 96, 24,
     {"use_tiling": True, "tile_sample_min_height": 32, "tile_sample_min_width": 32,
      "tile_sample_stride_height": 16, "tile_sample_stride_width": 24}),
]


def check_versions(torch, diffusers, allow_any):
    got = {"torch": torch.__version__.split("+")[0], "diffusers": diffusers.__version__}
    bad = {k: v for k, v in got.items() if v != PINNED[k]}
    if bad and not allow_any:
        sys.exit(f"version mismatch {bad}, pinned {PINNED} (use --any-version to override)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--golden", default=os.environ.get("OMNIHOST_GOLDEN_DIR", "../shared/golden"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "tests", "golden_local",
                                                  "wan_vae_encode_cases"))
    ap.add_argument("--any-version", action="store_true")
    args = ap.parse_args()

    import torch
    import diffusers
    from diffusers import AutoencoderKLWan
    from safetensors.torch import save_file

    check_versions(torch, diffusers, args.any_version)
    torch.set_grad_enabled(False)
    os.makedirs(args.out, exist_ok=True)
    versions = {"torch": torch.__version__, "diffusers": diffusers.__version__}

    for name, model, batch, frames, height, width, seed, opts in CASES:
        vae = AutoencoderKLWan.from_pretrained(os.path.join(args.golden, model)).eval().float()
        gen = torch.Generator().manual_seed(seed)
        video = torch.rand((batch, 3, frames, height, width), generator=gen, dtype=torch.float32) * 2 - 1

        def encode():
            return vae.encode(video).latent_dist

        tensors = {"video": video}
        if opts.get("use_slicing"):
            vae.enable_slicing()
            dist = encode()
            vae.disable_slicing()
            tensors["latent_dist_mean_batched"] = encode().mode()
        elif opts.get("use_tiling"):
            vae.enable_tiling(opts["tile_sample_min_height"], opts["tile_sample_min_width"],
                              opts["tile_sample_stride_height"], opts["tile_sample_stride_width"])
            dist = encode()
            vae.disable_tiling()
            tensors["latent_dist_mean_untiled"] = encode().mode()
        else:
            dist = encode()
        mean = dist.mode()
        tensors["latent_dist_mean"] = mean
        tensors["latent_dist_logvar"] = dist.logvar
        z = vae.config.z_dim
        latents_mean = torch.tensor(vae.config.latents_mean).view(1, z, 1, 1, 1).to(torch.float32)
        latents_std = 1.0 / torch.tensor(vae.config.latents_std).view(1, z, 1, 1, 1).to(torch.float32)
        tensors["latents"] = (mean.to(torch.float32) - latents_mean) * latents_std
        tensors = {k: v.contiguous() for k, v in tensors.items()}
        save_file(tensors, os.path.join(args.out, name + ".safetensors"))

        call = "vae = AutoencoderKLWan.from_pretrained(model); "
        if opts.get("use_slicing"):
            call += "vae.enable_slicing(); "
        if opts.get("use_tiling"):
            call += ("vae.enable_tiling(tile_sample_min_height, tile_sample_min_width, tile_sample_stride_height, "
                     "tile_sample_stride_width); ")
        call += ("dist = vae.encode(video).latent_dist; latent_dist_mean = dist.mode(); "
                 "latents = (latent_dist_mean - latents_mean) * (1.0 / latents_std)")
        info = {
            "model": model,
            "call": call,
            "batch": batch,
            "frames": frames,
            "height": height,
            "width": width,
            "seed": seed,
            "video": "torch.rand([batch, 3, frames, height, width], generator=Generator().manual_seed(seed)) * 2 - 1",
            "use_slicing": bool(opts.get("use_slicing", False)),
            "use_tiling": bool(opts.get("use_tiling", False)),
            "tile_sample_min_height": opts.get("tile_sample_min_height"),
            "tile_sample_min_width": opts.get("tile_sample_min_width"),
            "tile_sample_stride_height": opts.get("tile_sample_stride_height"),
            "tile_sample_stride_width": opts.get("tile_sample_stride_width"),
            "versions": versions,
            "script": SCRIPT,
            "tolerance": dict(TOLERANCE),
            "tolerance_note": TOLERANCE_NOTE,
            "tensors": {k: {"shape": list(v.shape), "dtype": "F32"} for k, v in sorted(tensors.items())},
        }
        with open(os.path.join(args.out, name + ".json"), "w") as f:
            json.dump(info, f, indent=2)
            f.write("\n")
        print(name, {k: list(v.shape) for k, v in tensors.items()})


if __name__ == "__main__":
    main()
