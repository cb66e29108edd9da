#!/usr/bin/env python3
"""Pillow resize goldens: the uint8 resizes that diffusers' Wan image-to-video preprocessing
(VideoProcessor.preprocess -> PIL.Image.resize(LANCZOS)) and the CLIP image processor
(PIL.Image.resize(BICUBIC)) run, so models/clip_vision's pil_resize can be checked pixel for pixel.

Writes tests/golden_local/pil_resize_cases/NAME.safetensors + NAME.json (the call, every
parameter, the tensor list, tolerance 0: the C++ side reimplements Pillow's 8-bit fixed point).

Pillow runs its two separable passes in an order chosen for speed (ImagingResampleInner): the
vertical pass first when the height shrinks by more than twice what the width shrinks, otherwise the
horizontal pass first. The intermediate image is rounded to 8 bits, so the order shows in the
pixels. The cases cover both orders, the exact boundary (height shrink == 2 x width shrink, which
stays horizontal-first), one axis unchanged, upscales and mixed up/down resizes.

Run with the pinned versions (a venv: pip install pillow==<PILLOW> torch safetensors numpy); the
script refuses other Pillow versions unless --any-version is given.
"""
import argparse
import json
import os

PINNED = {"pillow": "13.0.0"}
SEED = 2718

# (name, filter, (in_w, in_h), (out_w, out_h)); sizes as PIL writes them: width first.
CASES = [
    ("lanczos_vertical_first", "lanczos", (100, 80), (90, 40)),          # dh 40 > 2 x dw 10
    ("lanczos_vertical_first_width_grows", "lanczos", (200, 300), (224, 224)),
    ("lanczos_vertical_first_tall", "lanczos", (96, 300), (80, 64)),
    ("lanczos_horizontal_first", "lanczos", (100, 80), (50, 40)),        # dh 40 < 2 x dw 50
    ("lanczos_boundary_horizontal_first", "lanczos", (100, 100), (80, 60)),  # dh 40 == 2 x dw 20
    ("lanczos_wan_size", "lanczos", (300, 200), (160, 96)),
    ("lanczos_height_only", "lanczos", (50, 200), (50, 100)),
    ("lanczos_width_only", "lanczos", (120, 40), (64, 40)),
    ("lanczos_upscale", "lanczos", (33, 21), (64, 48)),
    ("lanczos_up_down", "lanczos", (40, 120), (64, 32)),
    ("bicubic_vertical_first", "bicubic", (120, 90), (100, 30)),
    ("bicubic_horizontal_first", "bicubic", (64, 64), (48, 32)),
    ("bicubic_vertical_first_narrow", "bicubic", (50, 200), (40, 100)),
]


def test_image(h, w, gen, torch):
    """A smooth gradient plus strong noise, uint8 [h, w, 3]: overshoot and clipping on both sides."""
    ys = torch.linspace(0, 1, h).view(h, 1, 1)
    xs = torch.linspace(0, 1, w).view(1, w, 1)
    ch = torch.tensor([0.0, 0.35, 0.7]).view(1, 1, 3)
    base = 127.5 + 127.5 * torch.sin(7.0 * ys + 5.0 * xs + 3.0 * ch)
    noisy = base + 60.0 * torch.randn(h, w, 3, generator=gen)
    return noisy.round().clamp(0, 255).to(torch.uint8).contiguous()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "tests", "golden_local"))
    ap.add_argument("--any-version", action="store_true", help="run with another Pillow version")
    args = ap.parse_args()

    import numpy as np
    import PIL
    import torch
    from PIL import Image
    from safetensors.torch import save_file

    if PIL.__version__ != PINNED["pillow"] and not args.any_version:
        raise SystemExit(f"Pillow {PIL.__version__} found, {PINNED['pillow']} pinned (--any-version to override)")
    filters = {"lanczos": Image.Resampling.LANCZOS, "bicubic": Image.Resampling.BICUBIC}
    root = os.path.join(os.path.abspath(args.out), "pil_resize_cases")
    os.makedirs(root, exist_ok=True)
    gen = torch.Generator().manual_seed(SEED)
    for name, flt, (in_w, in_h), (out_w, out_h) in CASES:
        image = test_image(in_h, in_w, gen, torch)
        out = Image.fromarray(image.numpy(), "RGB").resize((out_w, out_h), resample=filters[flt])
        resized = torch.from_numpy(np.asarray(out).copy()).contiguous()
        tensors = {"image": image, "resized": resized}
        save_file(tensors, os.path.join(root, name + ".safetensors"), metadata={"format": "pt"})
        dh, dw = in_h - out_h, in_w - out_w
        info = {
            "call": "PIL.Image.fromarray(image, 'RGB').resize((width, height), resample=filter) "
                    "(image: uint8 [H, W, 3])",
            "filter": flt,
            "width": out_w,
            "height": out_h,
            "pillow_pass_order": "vertical first" if dh > 0 and dh > 2 * dw else "horizontal first",
            "versions": {"pillow": PIL.__version__},
            "seed": SEED,
            "script": "scripts/golden/make_pil_resize_cases.py",
            "tolerance": {"resized": {"atol": 0, "rtol": 0}},
            "tensors": {k: {"shape": list(v.shape), "dtype": "U8"} for k, v in sorted(tensors.items())},
        }
        with open(os.path.join(root, name + ".json"), "w") as f:
            json.dump(info, f, indent=2)
            f.write("\n")
    print("wrote", root)


if __name__ == "__main__":
    main()
