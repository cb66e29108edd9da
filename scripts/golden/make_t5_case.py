#!/usr/bin/env python3
"""Tiny random T5EncoderModel goldens (the Stable Audio text encoder's layout) from transformers.

Writes, under tests/golden_local/ (paths relative to the repository root):
  t5_tiny_relu/        config.json + model.safetensors  (feed_forward_proj "relu": wi, as t5-base)
  t5_tiny_gated_gelu/  config.json + model.safetensors  (feed_forward_proj "gated-gelu": wi_0/wi_1)
  t5_cases/encoder_relu.{safetensors,json}, t5_cases/encoder_gated_gelu.{safetensors,json}
     inputs input_ids / attention_mask and the expected last_hidden_state, same layout as the shared
     golden set (NAME.safetensors + NAME.json with the call, every parameter, tensor list, tolerance).

The shapes are t5-base's architecture (relative bias in block 0 only, 32 buckets, max distance 128,
eps 1e-6) at tiny widths. Weights: transformers' default init under torch.manual_seed, then every
parameter (sorted by name) perturbed as the shared goldens are: constant tensors + N(0, 0.1^2), the
others + N(0, (0.1 * std)^2), so no norm weight is 1 and a dropped tensor fails the check.

Run with the versions pinned below (a venv: pip install torch==<TORCH> transformers==<TRANSFORMERS>
safetensors numpy); the script refuses other versions unless --any-version is given.
"""
import os

from golden_io import arg_parser, perturb, pinned_torch, write_case

PINNED = {"torch": "2.15.0", "transformers": "5.25.0"}
SEED = 1234


def make_variant(root, name, ff_proj, torch, transformers):
    from transformers import T5Config, T5EncoderModel

    cfg = T5Config(
        vocab_size=96,
        d_model=16,
        d_kv=4,
        d_ff=24,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        feed_forward_proj=ff_proj,
        layer_norm_epsilon=1e-6,
        dropout_rate=0.0,
    )
    torch.manual_seed(SEED)
    model = T5EncoderModel(cfg).eval()
    gen = torch.Generator().manual_seed(SEED + 1)
    perturb(model, gen)

    model_dir = os.path.join(root, "t5_tiny_" + name)
    os.makedirs(model_dir, exist_ok=True)
    model.save_pretrained(model_dir, safe_serialization=True)

    # Length 24 reaches the logarithmic buckets (|i - j| >= 8); row 1 is padded after 17 tokens,
    # row 0 has no padding; id 1 (</s>) ends each real sequence as the tokenizer would.
    L = 24
    ids = torch.randint(2, cfg.vocab_size, (2, L), generator=gen, dtype=torch.long)
    mask = torch.ones(2, L, dtype=torch.long)
    ids[0, L - 1] = 1
    ids[1, 16] = 1
    ids[1, 17:] = 0
    mask[1, 17:] = 0
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask).last_hidden_state.contiguous()

    cases = os.path.join(root, "t5_cases")
    os.makedirs(cases, exist_ok=True)
    tensors = {"input_ids": ids.contiguous(), "attention_mask": mask.contiguous(), "last_hidden_state": out}
    write_case(cases, "encoder_" + name, tensors, {
        "model": "t5_tiny_" + name,
        "call": "T5EncoderModel.from_pretrained(model)(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state",
        "feed_forward_proj": ff_proj,
        "seq_len": L,
        "batch": 2,
        "seed": SEED,
        "weights": "transformers default init under torch.manual_seed(seed), then every parameter (sorted by name) "
                   "+ N(0, (0.1*std)^2) (constant tensors + N(0, 0.1^2)) from Generator().manual_seed(seed+1)",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "script": "scripts/golden/make_t5_case.py",
        "tolerance": {"last_hidden_state": {"atol": 1e-5, "rtol": 1e-5}},
    })


def main():
    args = arg_parser(__doc__).parse_args()
    torch, transformers = pinned_torch(args, PINNED)
    root = os.path.abspath(args.out)
    for name, proj in (("relu", "relu"), ("gated_gelu", "gated-gelu")):
        make_variant(root, name, proj, torch, transformers)
    print("wrote", root)


if __name__ == "__main__":
    main()
