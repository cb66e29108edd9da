#!/usr/bin/env python3
"""Image-to-video goldens from diffusers' WanTransformer3DModel and WanImageToVideoPipeline, on tiny
random models.

Models (committed under tests/golden_local/i2v_tiny/, each < 200 kB):
  wan21_i2v_transformer     Wan2.1 I2V layout: in_channels 36 (16 noise + 4 mask + 16 condition),
                            image_dim = the tiny CLIP's hidden size, added_kv_proj_dim = inner dim
  wan21_flf2v_transformer   the same plus pos_embed_seq_len = 2 x the CLIP tokens (first-last-frame)
  a14b_i2v_transformer, a14b_i2v_transformer_2
                            Wan2.2 I2V-A14B layout: in_channels 36, no image embedder (two experts)
  clip_image_processor      preprocessor_config.json at the tiny CLIP's size (Wan's settings otherwise)
The VAEs and the TI2V transformer are the shared golden set's (<golden>/wan21_tiny/vae,
<golden>/wan22_ti2v_tiny/{vae,transformer}); the CLIP encoder is tests/golden_local/clip_vision_tiny.

Cases in tests/golden_local/i2v_cases/NAME.{safetensors,json} (the shared golden layout: the call,
every parameter, the tensor list, the tolerance):
  *_transformer_forward   transformer(hidden_states, timestep, encoder_hidden_states,
                          encoder_hidden_states_image) for each conditioning path
  *_pipeline              WanImageToVideoPipeline(image[, last_image], prompt_embeds,
                          negative_prompt_embeds, generator=Generator().manual_seed(seed)) for a
                          few steps: the preprocessed condition image(s), CLIP image embeds, the
                          initial latents, the condition, every step's noise predictions and
                          latents, and the decoded frames (output_type="np")
The pipeline cases name their components in "components" ("golden:" = under the shared golden
root, "local:" = under tests/golden_local); the runner assembles a model folder from them with the
case's "model_index".

The input images are sized so that Pillow resizes them horizontal pass first (both sides grow, or
only one side changes): Pillow 13 does the vertical pass first for some shrinking heights (a
choice the C++ side does not reproduce; see models/wan_pipeline/README.md).

The CLIP processor runs transformers' PIL backend (CLIPImageProcessorPil): the numerics of the
CLIPImageProcessor Wan's I2V pipelines shipped with before transformers 5.

Pinned: torch 2.15.0, diffusers 0.42.1, transformers 5.25.0, Pillow 13.0.0 (--any-version to
override). Usage:
  /work/venv-golden/bin/python scripts/golden/make_i2v_cases.py --golden ../shared/golden
"""
import argparse
import json
import os
import sys

PINNED = {"torch": "2.15.0", "diffusers": "0.42.1", "transformers": "5.25.0", "PIL": "13.0.0"}
SCRIPT = "scripts/golden/make_i2v_cases.py"
TOLERANCE = {"atol": 2e-05, "rtol": 1e-05}
PIPE_TOLERANCE = {"atol": 5e-05, "rtol": 1e-05}
TOLERANCE_NOTE = ("made with torch 2.15 (float32, CPU); other BLAS builds differ by a few ulps per "
                  "matmul, which the atol covers at these tiny widths")

HERE = os.path.dirname(os.path.abspath(__file__))
LOCAL = os.path.normpath(os.path.join(HERE, "..", "..", "tests", "golden_local"))

CLIP_TOKENS = 5  # tiny CLIP: 28 px, patch 14 -> 4 patches + class token
CLIP_HIDDEN = 32

TRANSFORMER_BASE = {
    "patch_size": [1, 2, 2], "num_attention_heads": 2, "attention_head_dim": 12, "text_dim": 32,
    "freq_dim": 256, "ffn_dim": 48, "num_layers": 2, "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads", "eps": 1e-6, "rope_max_seq_len": 32,
}
TINY_TRANSFORMERS = {
    "wan21_i2v_transformer": (dict(TRANSFORMER_BASE, in_channels=36, out_channels=16, image_dim=CLIP_HIDDEN,
                                   added_kv_proj_dim=24, pos_embed_seq_len=None), 101),
    "wan21_flf2v_transformer": (dict(TRANSFORMER_BASE, in_channels=36, out_channels=16, image_dim=CLIP_HIDDEN,
                                     added_kv_proj_dim=24, pos_embed_seq_len=2 * CLIP_TOKENS), 102),
    "a14b_i2v_transformer": (dict(TRANSFORMER_BASE, in_channels=36, out_channels=16, image_dim=None,
                                  added_kv_proj_dim=None, pos_embed_seq_len=None), 103),
    "a14b_i2v_transformer_2": (dict(TRANSFORMER_BASE, in_channels=36, out_channels=16, image_dim=None,
                                    added_kv_proj_dim=None, pos_embed_seq_len=None), 104),
}

# Wan2.1-I2V's image_processor/preprocessor_config.json at the tiny CLIP's 28 px.
CLIP_PROCESSOR = {
    "image_processor_type": "CLIPImageProcessor",
    "do_resize": True, "size": {"shortest_edge": 28}, "resample": 3,
    "do_center_crop": True, "crop_size": {"height": 28, "width": 28},
    "do_rescale": True, "rescale_factor": 0.00392156862745098, "do_normalize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
    "do_convert_rgb": True,
}


def check_versions(mods, allow_any):
    got = {k: m.__version__.split("+")[0] for k, m in mods.items()}
    bad = {k: v for k, v in got.items() if v != PINNED[k]}
    if bad and not allow_any:
        sys.exit(f"version mismatch {bad}, pinned {PINNED} (use --any-version to override)")


def tensor_list(tensors, torch):
    names = {torch.float32: "F32", torch.int64: "I64", torch.uint8: "U8"}
    return {k: {"shape": list(v.shape), "dtype": names[v.dtype]} for k, v in sorted(tensors.items())}


def test_image(h, w, seed, torch):
    """A smooth gradient plus noise, uint8 [h, w, 3]."""
    gen = torch.Generator().manual_seed(seed)
    ys = torch.linspace(0, 1, h).view(h, 1, 1)
    xs = torch.linspace(0, 1, w).view(1, w, 1)
    ch = torch.tensor([0.0, 0.35, 0.7]).view(1, 1, 3)
    base = 127.5 + 127.5 * torch.sin(5.0 * ys + 3.0 * xs + 3.0 * ch)
    noisy = base + 30.0 * torch.randn(h, w, 3, generator=gen)
    return noisy.round().clamp(0, 255).to(torch.uint8).contiguous()


def make_models(torch, WanTransformer3DModel):
    """Random tiny transformers: diffusers' init, then every norm weight and the position embedding
    moved off their constant init so that a missing or misplaced one shows."""
    out = {}
    for name, (cfg, seed) in TINY_TRANSFORMERS.items():
        torch.manual_seed(seed)
        model = WanTransformer3DModel(**cfg).eval()
        gen = torch.Generator().manual_seed(seed + 1000)
        with torch.no_grad():
            for pname, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
                if "norm" in pname or "pos_embed" in pname:
                    p.add_(torch.randn(p.shape, generator=gen) * 0.2)
        path = os.path.join(LOCAL, "i2v_tiny", name)
        model.save_pretrained(path, safe_serialization=True)
        out[name] = model
    proc_dir = os.path.join(LOCAL, "i2v_tiny", "clip_image_processor")
    os.makedirs(proc_dir, exist_ok=True)
    with open(os.path.join(proc_dir, "preprocessor_config.json"), "w") as f:
        json.dump(CLIP_PROCESSOR, f, indent=2)
        f.write("\n")
    return out


def load_transformer(path, torch):
    """from_config + a strict state-dict load: from_pretrained needs accelerate for this class (its
    _keep_in_fp32_modules), and the goldens run in float32 anyway."""
    from diffusers import WanTransformer3DModel
    from safetensors.torch import load_file
    model = WanTransformer3DModel.from_config(WanTransformer3DModel.load_config(path))
    model.load_state_dict(load_file(os.path.join(path, "diffusion_pytorch_model.safetensors")), strict=True)
    return model.eval().float()


def save_case(out_dir, name, tensors, info, torch, save_file, versions, tolerance):
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    save_file(tensors, os.path.join(out_dir, name + ".safetensors"))
    info = dict(info)
    info["versions"] = versions
    info["script"] = SCRIPT
    info["tolerance"] = tolerance
    info["tolerance_note"] = TOLERANCE_NOTE
    info["tensors"] = tensor_list(tensors, torch)
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")


def forward_cases(args, torch, diffusers_mod, save_file, versions):
    from diffusers import WanTransformer3DModel
    cases = [
        # name, model (root:path), F, H, W, timestep kind, image batch, seed
        ("wan21_i2v_transformer_forward", "local:i2v_tiny/wan21_i2v_transformer", 2, 4, 6, "scalar", 1, 201),
        ("wan21_flf2v_transformer_forward", "local:i2v_tiny/wan21_flf2v_transformer", 2, 4, 4, "scalar", 2, 202),
        ("a14b_i2v_transformer_forward", "local:i2v_tiny/a14b_i2v_transformer", 2, 4, 4, "scalar", 0, 203),
        # TI2V: per-token timesteps with the first latent frame at 0 (the image), as the pipeline makes them.
        ("ti2v_transformer_forward_first_frame", "golden:wan22_ti2v_tiny/transformer", 3, 4, 4, "first_frame", 0, 204),
    ]
    for name, model, frames, h, w, tkind, image_batch, seed in cases:
        root, rel = model.split(":", 1)
        path = os.path.join(LOCAL if root == "local" else args.golden, rel)
        tr = load_transformer(path, torch)
        cfg = tr.config
        gen = torch.Generator().manual_seed(seed)
        hs = torch.randn((1, cfg.in_channels, frames, h, w), generator=gen)
        ehs = torch.randn((1, 512, cfg.text_dim), generator=gen)
        tensors = {"hidden_states": hs, "encoder_hidden_states": ehs}
        if tkind == "scalar":
            timestep = torch.tensor([637.0])
        else:
            mask = torch.ones(1, 1, frames, h, w)
            mask[:, :, 0] = 0
            timestep = (mask[0][0][:, ::2, ::2] * 637.0).flatten().unsqueeze(0)
        tensors["timestep"] = timestep
        kwargs = {}
        if image_batch:
            img = torch.randn((image_batch, CLIP_TOKENS, cfg.image_dim), generator=gen)
            tensors["encoder_hidden_states_image"] = img
            kwargs["encoder_hidden_states_image"] = img
        with torch.no_grad():
            tensors["output"] = tr(hidden_states=hs, timestep=timestep, encoder_hidden_states=ehs,
                                   return_dict=False, **kwargs)[0]
        info = {
            "model": model,
            "call": "WanTransformer3DModel.from_pretrained(model)(hidden_states, timestep, encoder_hidden_states"
                    + (", encoder_hidden_states_image" if image_batch else "") + ")",
            "seed": seed,
            "hidden_states": "torch.randn([1, in_channels, frames, height, width], generator) then "
                             "encoder_hidden_states [1, 512, text_dim], then encoder_hidden_states_image",
            "timestep": "[637.0]" if tkind == "scalar" else
                        "(first_frame_mask[0][0][:, ::2, ::2] * 637.0).flatten()[None], mask 0 on latent frame 0",
            "frames": frames, "height": h, "width": w,
            "image_batch": image_batch or None,
        }
        save_case(args.out, name, tensors, info, torch, save_file, versions, TOLERANCE)
        print(name, "ok")


PIPELINES = [
    # name, components, model_index extras, image (h, w, seed), last image or None, call params
    ("ti2v_pipeline",
     {"transformer": "golden:wan22_ti2v_tiny/transformer", "vae": "golden:wan22_ti2v_tiny/vae",
      "scheduler": "golden:wan22_ti2v_tiny/scheduler"},
     {"boundary_ratio": None, "expand_timesteps": True},
     (24, 40, 301), None,
     {"height": 32, "width": 64, "num_frames": 9, "num_inference_steps": 3, "guidance_scale": 5.0,
      "guidance_scale_2": None, "generator_seed": 7}),
    ("wan21_i2v_pipeline",
     {"transformer": "local:i2v_tiny/wan21_i2v_transformer", "vae": "golden:wan21_tiny/vae",
      "scheduler": "golden:wan21_tiny/scheduler", "image_encoder": "local:clip_vision_tiny",
      "image_processor": "local:i2v_tiny/clip_image_processor"},
     {"boundary_ratio": None, "expand_timesteps": False},
     (32, 37, 302), None,
     {"height": 32, "width": 48, "num_frames": 5, "num_inference_steps": 3, "guidance_scale": 4.0,
      "guidance_scale_2": None, "generator_seed": 8}),
    ("wan21_flf2v_pipeline",
     {"transformer": "local:i2v_tiny/wan21_flf2v_transformer", "vae": "golden:wan21_tiny/vae",
      "scheduler": "golden:wan21_tiny/scheduler", "image_encoder": "local:clip_vision_tiny",
      "image_processor": "local:i2v_tiny/clip_image_processor"},
     {"boundary_ratio": None, "expand_timesteps": False},
     (30, 44, 303), (20, 30, 304),
     {"height": 32, "width": 32, "num_frames": 9, "num_inference_steps": 2, "guidance_scale": 3.0,
      "guidance_scale_2": None, "generator_seed": 9}),
    ("a14b_i2v_pipeline",
     {"transformer": "local:i2v_tiny/a14b_i2v_transformer", "transformer_2": "local:i2v_tiny/a14b_i2v_transformer_2",
      "vae": "golden:wan22_a14b_tiny/vae", "scheduler": "golden:wan22_a14b_tiny/scheduler"},
     {"boundary_ratio": 0.875, "expand_timesteps": False},
     (32, 48, 305), None,
     {"height": 32, "width": 48, "num_frames": 5, "num_inference_steps": 4, "guidance_scale": 4.0,
      "guidance_scale_2": 2.5, "generator_seed": 10}),
    ("a14b_flf2v_pipeline",
     {"transformer": "local:i2v_tiny/a14b_i2v_transformer", "transformer_2": "local:i2v_tiny/a14b_i2v_transformer_2",
      "vae": "golden:wan22_a14b_tiny/vae", "scheduler": "golden:wan22_a14b_tiny/scheduler"},
     {"boundary_ratio": 0.875, "expand_timesteps": False},
     (32, 32, 306), (32, 32, 307),
     {"height": 32, "width": 32, "num_frames": 9, "num_inference_steps": 3, "guidance_scale": 3.5,
      "guidance_scale_2": None, "generator_seed": 11}),
]


def pipeline_cases(args, torch, save_file, versions):
    import PIL.Image
    from diffusers import AutoencoderKLWan, WanImageToVideoPipeline, WanTransformer3DModel, UniPCMultistepScheduler
    from transformers import CLIPVisionModel
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    def resolve(ref):
        root, rel = ref.split(":", 1)
        return os.path.join(LOCAL if root == "local" else args.golden, rel)

    for name, comps, index_extra, img_spec, last_spec, params in PIPELINES:
        kw = {"tokenizer": None, "text_encoder": None}
        kw["transformer"] = load_transformer(resolve(comps["transformer"]), torch)
        kw["transformer_2"] = (load_transformer(resolve(comps["transformer_2"]), torch)
                               if "transformer_2" in comps else None)
        kw["vae"] = AutoencoderKLWan.from_pretrained(resolve(comps["vae"])).eval().float()
        kw["scheduler"] = UniPCMultistepScheduler.from_pretrained(resolve(comps["scheduler"]))
        if "image_encoder" in comps:
            kw["image_encoder"] = CLIPVisionModel.from_pretrained(resolve(comps["image_encoder"])).eval().float()
            proc = {k: v for k, v in CLIP_PROCESSOR.items() if k != "image_processor_type"}
            kw["image_processor"] = CLIPImageProcessorPil(**proc)
        pipe = WanImageToVideoPipeline(boundary_ratio=index_extra["boundary_ratio"],
                                       expand_timesteps=index_extra["expand_timesteps"], **kw)
        pipe.set_progress_bar_config(disable=True)
        text_dim = kw["transformer"].config.text_dim
        gen = torch.Generator().manual_seed(1000 + params["generator_seed"])
        prompt_embeds = torch.randn((1, 512, text_dim), generator=gen)
        negative_prompt_embeds = torch.randn((1, 512, text_dim), generator=gen)
        image_u8 = test_image(*img_spec, torch)
        last_u8 = test_image(*last_spec, torch) if last_spec else None
        image = PIL.Image.fromarray(image_u8.numpy())
        last_image = PIL.Image.fromarray(last_u8.numpy()) if last_u8 is not None else None

        rec = {}
        orig_prepare = pipe.prepare_latents

        def prepare(*a, **k):
            out = orig_prepare(*a, **k)
            rec["initial_latents"] = out[0].clone()
            rec["condition"] = out[1].clone()
            rec["condition_image"] = a[0].clone()
            if k.get("last_image") is not None or (len(a) > 10 and a[10] is not None):
                rec["condition_last_image"] = (k.get("last_image") if k.get("last_image") is not None else a[10]).clone()
            return out
        pipe.prepare_latents = prepare
        if "image_encoder" in comps:
            orig_encode = pipe.encode_image

            def encode_image(*a, **k):
                out = orig_encode(*a, **k)
                rec["image_embeds"] = out.clone()
                return out
            pipe.encode_image = encode_image

        preds = []
        hooks = []
        for tr in (kw["transformer"], kw["transformer_2"]):
            if tr is not None:
                hooks.append(tr.register_forward_hook(
                    lambda m, a, o, which=("transformer" if tr is kw["transformer"] else "transformer_2"):
                    preds.append((which, o[0].clone()))))
        step_latents = []

        def on_step(p, i, t, cb_kwargs):
            step_latents.append(cb_kwargs["latents"].clone())
            return {}

        call = dict(image=image, prompt_embeds=prompt_embeds, negative_prompt_embeds=negative_prompt_embeds,
                    height=params["height"], width=params["width"], num_frames=params["num_frames"],
                    num_inference_steps=params["num_inference_steps"], guidance_scale=params["guidance_scale"],
                    generator=torch.Generator().manual_seed(params["generator_seed"]), output_type="np",
                    callback_on_step_end=on_step, callback_on_step_end_tensor_inputs=["latents"])
        if params["guidance_scale_2"] is not None:
            call["guidance_scale_2"] = params["guidance_scale_2"]
        if last_image is not None:
            call["last_image"] = last_image
        with torch.no_grad():
            frames = pipe(**call).frames
        for h in hooks:
            h.remove()
        steps = params["num_inference_steps"]
        if len(preds) != 2 * steps or len(step_latents) != steps:
            sys.exit(f"{name}: recorded {len(preds)} predictions and {len(step_latents)} latents for {steps} steps")
        tensors = {
            "image": image_u8, "prompt_embeds": prompt_embeds, "negative_prompt_embeds": negative_prompt_embeds,
            "timesteps": pipe.scheduler.timesteps.clone(), "initial_latents": rec["initial_latents"],
            "condition": rec["condition"], "condition_image": rec["condition_image"],
            "frames": torch.from_numpy(frames).float(),
        }
        if last_u8 is not None:
            tensors["last_image"] = last_u8
            tensors["condition_last_image"] = rec["condition_last_image"]
        if "image_embeds" in rec:
            tensors["image_embeds"] = rec["image_embeds"]
        experts = []
        for i in range(steps):
            tensors[f"noise_pred_cond_step_{i}"] = preds[2 * i][1]
            tensors[f"noise_pred_uncond_step_{i}"] = preds[2 * i + 1][1]
            tensors[f"latents_step_{i}"] = step_latents[i]
            experts.append(preds[2 * i][0])
        model_index = {"_class_name": "WanImageToVideoPipeline", **index_extra}
        for c in ("transformer", "transformer_2", "vae", "scheduler", "image_encoder", "image_processor"):
            model_index[c] = [None, None]
        model_index["transformer"] = ["diffusers", "WanTransformer3DModel"]
        model_index["vae"] = ["diffusers", "AutoencoderKLWan"]
        model_index["scheduler"] = ["diffusers", "UniPCMultistepScheduler"]
        if "transformer_2" in comps:
            model_index["transformer_2"] = ["diffusers", "WanTransformer3DModel"]
        if "image_encoder" in comps:
            model_index["image_encoder"] = ["transformers", "CLIPVisionModel"]
            model_index["image_processor"] = ["transformers", "CLIPImageProcessor"]
        info = {
            "components": comps,
            "model_index": model_index,
            "call": "WanImageToVideoPipeline(components, boundary_ratio, expand_timesteps)(image=PIL(image)"
                    + (", last_image=PIL(last_image)" if last_u8 is not None else "")
                    + ", prompt_embeds, negative_prompt_embeds, height, width, num_frames, num_inference_steps, "
                      "guidance_scale[, guidance_scale_2], generator=Generator().manual_seed(generator_seed), "
                      "output_type='np'); image_processor = CLIPImageProcessorPil(preprocessor_config)",
            "image": f"test_image({img_spec[0]}, {img_spec[1]}, seed {img_spec[2]}) uint8 [H, W, 3]",
            "last_image": (f"test_image({last_spec[0]}, {last_spec[1]}, seed {last_spec[2]})" if last_spec else None),
            "prompt_embeds": "torch.randn([1, 512, text_dim], Generator().manual_seed(1000 + generator_seed)), "
                             "then negative_prompt_embeds",
            **params,
            "expert_per_step": experts,
        }
        save_case(args.out, name, tensors, info, torch, save_file, versions, PIPE_TOLERANCE)
        print(name, "ok", experts)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--golden", default=os.environ.get("OMNIHOST_GOLDEN_DIR", "../shared/golden"))
    ap.add_argument("--out", default=os.path.join(LOCAL, "i2v_cases"))
    ap.add_argument("--any-version", action="store_true")
    args = ap.parse_args()

    import PIL
    import torch
    import diffusers
    import transformers
    from diffusers import WanTransformer3DModel
    from safetensors.torch import save_file

    check_versions({"torch": torch, "diffusers": diffusers, "transformers": transformers, "PIL": PIL},
                   args.any_version)
    torch.set_grad_enabled(False)
    os.makedirs(args.out, exist_ok=True)
    versions = {"torch": torch.__version__, "diffusers": diffusers.__version__,
                "transformers": transformers.__version__, "Pillow": PIL.__version__}
    make_models(torch, WanTransformer3DModel)
    forward_cases(args, torch, diffusers, save_file, versions)
    pipeline_cases(args, torch, save_file, versions)


if __name__ == "__main__":
    main()
