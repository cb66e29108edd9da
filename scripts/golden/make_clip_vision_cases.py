#!/usr/bin/env python3
"""Tiny random CLIPVisionModel goldens (the layout of Wan2.1 I2V's image_encoder/) and CLIP image
preprocessing goldens (Wan2.1 I2V's image_processor/ settings), from transformers.

Writes, under tests/golden_local/ (paths relative to the repository root):
  clip_vision_tiny/   config.json + model.safetensors (CLIPVisionModel, hidden_act "gelu" as ViT-H/14;
                      keys vision_model.*, the layout of Wan's image_encoder/ and transformers < 5)
  clip_vision_cases/  NAME.safetensors + NAME.json, same layout as the shared golden set (the call,
                      every parameter, tensor list, tolerance):
    encoder_forward       pixel_values -> hidden_states[-2] (what WanImageToVideoPipeline.encode_image
                          keeps), last_hidden_state, pooler_output
    preprocess_upscale    a 45x67 uint8 image -> pixel_values with Wan's processor (224, bicubic)
    preprocess_downscale  a 300x251 uint8 image -> pixel_values with Wan's processor
    encode_image          a 40x33 uint8 image -> processor at the tiny model's 28 -> hidden_states[-2]
    preprocess_strong_downscale  97x130 -> shortest edge 24, crop 20x24 (4x antialiased shrink)
    preprocess_thin_strip        5x90 -> 224x4032 -> crop 224 (extreme aspect ratio)

The processor is transformers' PIL backend (CLIPImageProcessorPil): the numerics of the
CLIPImageProcessor that diffusers' Wan I2V pipelines used before transformers 5 (Pillow bicubic
resize on uint8). transformers 5's default CLIPImageProcessor is the torchvision backend, which
resizes differently; it is not what these cases check.

Weights: transformers' default init under torch.manual_seed, then every parameter (sorted by name)
perturbed as the shared goldens are: constant tensors + N(0, 0.1^2), the others
+ N(0, (0.1 * std)^2), so no norm weight is 1, no bias 0, and a dropped tensor fails the check.

Run with the versions pinned below (a venv: pip install torch==<TORCH> transformers==<TRANSFORMERS>
safetensors numpy pillow); the script refuses other versions unless --any-version is given.
"""
import os
import sys

from golden_io import arg_parser, perturb, pinned_torch, write_case

PINNED = {"torch": "2.15.0", "transformers": "5.25.0"}
SEED = 4321

# Wan2.1-I2V-14B-*-Diffusers image_processor/preprocessor_config.json.
WAN_PROCESSOR = {
    "do_resize": True,
    "size": {"shortest_edge": 224},
    "resample": 3,  # PIL BICUBIC
    "do_center_crop": True,
    "crop_size": {"height": 224, "width": 224},
    "do_rescale": True,
    "rescale_factor": 0.00392156862745098,
    "do_normalize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "do_convert_rgb": True,
}

TINY = {
    "hidden_size": 32,
    "intermediate_size": 48,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "num_channels": 3,
    "image_size": 28,
    "patch_size": 14,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-5,
    "projection_dim": 16,
}


def test_image(h, w, gen, torch):
    """A smooth gradient plus noise, uint8 [h, w, 3]: edges for the bicubic overshoot, both clips."""
    ys = torch.linspace(0, 1, h).view(h, 1, 1)
    xs = torch.linspace(0, 1, w).view(1, w, 1)
    ch = torch.tensor([0.0, 0.35, 0.7]).view(1, 1, 3)
    base = 127.5 + 127.5 * torch.sin(6.0 * ys + 4.0 * xs + 3.0 * ch)
    noisy = base + 40.0 * torch.randn(h, w, 3, generator=gen)
    return noisy.round().clamp(0, 255).to(torch.uint8).contiguous()


def main():
    args = arg_parser(__doc__).parse_args()
    torch, transformers = pinned_torch(args, PINNED)
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModel
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    root = os.path.abspath(args.out)
    cases = os.path.join(root, "clip_vision_cases")
    os.makedirs(cases, exist_ok=True)
    versions = {"torch": torch.__version__, "transformers": transformers.__version__}
    script = "scripts/golden/make_clip_vision_cases.py"
    weights = ("transformers default init under torch.manual_seed(seed), then every parameter (sorted by name) "
               "+ N(0, (0.1*std)^2) (constant tensors + N(0, 0.1^2)) from Generator().manual_seed(seed+1)")

    # The model, eager attention (the reference math; SDPA agrees to rounding).
    cfg = CLIPVisionConfig(**TINY, attention_dropout=0.0)
    cfg._attn_implementation = "eager"
    torch.manual_seed(SEED)
    model = CLIPVisionModel(cfg).eval()
    gen = torch.Generator().manual_seed(SEED + 1)
    perturb(model, gen)
    model_dir = os.path.join(root, "clip_vision_tiny")
    os.makedirs(model_dir, exist_ok=True)
    model.save_pretrained(model_dir, safe_serialization=True)
    # transformers 5 saves CLIPVisionModel without the "vision_model." prefix; Wan2.1 I2V's
    # image_encoder/ (saved by transformers 4) has it. Store the Wan layout, and check that
    # transformers still loads it to the same model.
    weights_file = os.path.join(model_dir, "model.safetensors")
    state = {"vision_model." + k: v.contiguous() for k, v in model.state_dict().items() if "position_ids" not in k}
    save_file(state, weights_file, metadata={"format": "pt"})
    reloaded = CLIPVisionModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    for (ka, va), (kb, vb) in zip(sorted(model.state_dict().items()), sorted(reloaded.state_dict().items())):
        if ka != kb or not torch.equal(va, vb):
            sys.exit(f"the prefixed checkpoint does not reload to the same model ({ka} / {kb})")

    pixel_values = torch.randn(2, 3, TINY["image_size"], TINY["image_size"], generator=gen)
    with torch.no_grad():
        out = model(pixel_values=pixel_values, output_hidden_states=True)
    tensors = {
        "pixel_values": pixel_values.contiguous(),
        "penultimate_hidden_state": out.hidden_states[-2].contiguous(),
        "last_hidden_state": out.last_hidden_state.contiguous(),
        "pooler_output": out.pooler_output.contiguous(),
    }
    tol = {"atol": 1e-5, "rtol": 1e-5}
    write_case(cases, "encoder_forward", tensors, {
        "model": "clip_vision_tiny",
        "call": "CLIPVisionModel.from_pretrained(model)(pixel_values=pixel_values, output_hidden_states=True) -> "
                "penultimate_hidden_state = hidden_states[-2], last_hidden_state, pooler_output",
        "attn_implementation": "eager",
        "seed": SEED,
        "weights": weights,
        "config": TINY,
        "versions": versions,
        "script": script,
        "tolerance": {"penultimate_hidden_state": tol, "last_hidden_state": tol, "pooler_output": tol},
    })

    def preprocess(image, settings):
        proc = CLIPImageProcessorPil(**settings)
        # transformers takes a numpy HWC uint8 image exactly as a PIL RGB image of the same bytes.
        return proc(images=image.numpy(), return_tensors="pt")["pixel_values"].contiguous()

    # Bit-exact is expected (the C++ side reimplements Pillow's fixed-point bicubic); the float
    # tolerance only covers rescale/normalise rounding in float32.
    pre_tol = {"atol": 1e-6, "rtol": 0.0}
    for name, (h, w) in (("preprocess_upscale", (45, 67)), ("preprocess_downscale", (300, 251))):
        image = test_image(h, w, gen, torch)
        tensors = {"image": image, "pixel_values": preprocess(image, WAN_PROCESSOR)}
        write_case(cases, name, tensors, {
            "call": "CLIPImageProcessorPil(**processor)(images=image.numpy(), return_tensors='pt').pixel_values "
                    "(image: uint8 [H, W, 3] RGB)",
            "processor": WAN_PROCESSOR,
            "versions": versions,
            "script": script,
            "tolerance": {"pixel_values": pre_tol},
        })

    tiny_processor = dict(WAN_PROCESSOR)
    tiny_processor["size"] = {"shortest_edge": TINY["image_size"]}
    tiny_processor["crop_size"] = {"height": TINY["image_size"], "width": TINY["image_size"]}
    image = test_image(40, 33, gen, torch)
    pv = preprocess(image, tiny_processor)
    with torch.no_grad():
        hs = model(pixel_values=pv, output_hidden_states=True).hidden_states[-2].contiguous()
    write_case(cases, "encode_image", {"image": image, "pixel_values": pv, "penultimate_hidden_state": hs}, {
        "model": "clip_vision_tiny",
        "call": "pixel_values = CLIPImageProcessorPil(**processor)(images=image.numpy()).pixel_values; "
                "CLIPVisionModel.from_pretrained(model)(pixel_values, output_hidden_states=True).hidden_states[-2]",
        "processor": tiny_processor,
        "seed": SEED,
        "versions": versions,
        "script": script,
        "tolerance": {"pixel_values": pre_tol, "penultimate_hidden_state": tol},
    })

    # Harder resizes, from their own generator so the cases above keep their values: a 4x
    # antialiased shrink to a non-square crop, and a 5x90 strip whose long side becomes 4032.
    gen2 = torch.Generator().manual_seed(SEED + 2)
    small = dict(WAN_PROCESSOR)
    small["size"] = {"shortest_edge": 24}
    small["crop_size"] = {"height": 20, "width": 24}
    for name, (h, w), settings in (("preprocess_strong_downscale", (97, 130), small),
                                   ("preprocess_thin_strip", (5, 90), WAN_PROCESSOR)):
        image = test_image(h, w, gen2, torch)
        tensors = {"image": image, "pixel_values": preprocess(image, settings)}
        write_case(cases, name, tensors, {
            "call": "CLIPImageProcessorPil(**processor)(images=image.numpy(), return_tensors='pt').pixel_values "
                    "(image: uint8 [H, W, 3] RGB)",
            "processor": settings,
            "versions": versions,
            "script": script,
            "tolerance": {"pixel_values": pre_tol},
        })
    print("wrote", root)


if __name__ == "__main__":
    main()
