"""What the golden writers share: their command line (--out, --any-version) and pinned-version check,
the perturbation that makes tiny random models' weights informative, the case layout of the golden
sets (NAME.safetensors + NAME.json: the call, every parameter, the tensor list, the tolerance), and a
plain safetensors writer for references made where the safetensors package is missing (torch 1.13).

torch is imported inside the functions that need it, so a script's --help works without it.
"""
import argparse
import json
import os
import struct
import sys

# safetensors dtype names of the tensor dtypes the goldens hold.
DTYPE_NAMES = {"torch.float32": "F32", "torch.float64": "F64", "torch.int64": "I64", "torch.uint8": "U8"}


def arg_parser(doc):
    """The writers' common options: --out (default tests/golden_local) and --any-version."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "tests", "golden_local"))
    ap.add_argument("--any-version", action="store_true", help="run with unpinned torch/transformers versions")
    return ap


def pinned_torch(args, pinned):
    """Imports torch and transformers, exits unless they are the `pinned` versions (or --any-version
    was given), and keeps torch to one thread. Returns (torch, transformers)."""
    import torch
    import transformers

    have = {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__}
    if have != pinned and not args.any_version:
        sys.exit(f"versions {have} differ from the pinned {pinned} (use --any-version to run anyway)")
    torch.set_num_threads(1)
    return torch, transformers


def perturb(model, gen):
    """Every parameter (sorted by name) + N(0, (0.1 * std)^2), constant tensors + N(0, 0.1^2): no norm
    weight stays 1, no bias 0, so a dropped or misrouted tensor fails the check."""
    import torch

    with torch.no_grad():
        for _, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            if p.numel() > 1 and float(p.std()) > 0:
                scale = 0.1 * float(p.std())
            else:
                scale = 0.1
            p.add_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * scale)


def tensor_list(tensors):
    """The "tensors" entry of a case's JSON: name -> shape and safetensors dtype, sorted by name."""
    return {k: {"shape": list(v.shape), "dtype": DTYPE_NAMES[str(v.dtype)]} for k, v in sorted(tensors.items())}


def write_case(cases, name, tensors, info):
    """cases/NAME.safetensors and cases/NAME.json (info plus the tensor list)."""
    from safetensors.torch import save_file

    save_file(tensors, os.path.join(cases, name + ".safetensors"), metadata={"format": "pt"})
    info = dict(info)
    info["tensors"] = tensor_list(tensors)
    with open(os.path.join(cases, name + ".json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")


def write_safetensors(path, tensors, metadata):
    """A safetensors file by hand: the header (metadata, then the tensors sorted by name) padded to 8
    bytes, then the tensors' bytes in that order."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPE_NAMES[str(t.dtype)], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
