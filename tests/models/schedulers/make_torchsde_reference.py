#!/usr/bin/env python3
"""Writes torchsde_reference.safetensors: what torchsde's Brownian tree (as diffusers'
BrownianTreeNoiseSampler uses it) returns, for the bit-exact test of models/schedulers/torchsde_brownian.

Produced with torch 1.13.1 (CPU), torchsde 0.2.6 and numpy 1.26.4:
    python make_torchsde_reference.py data/torchsde_reference.safetensors
Only needed to regenerate the file; the C++ tests read the file, not Python.
"""
import argparse
import json
import math
import os
import sys
import warnings

import numpy as np
import torch
import torchsde

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts", "golden"))
from golden_io import write_safetensors  # noqa: E402

warnings.simplefilter("ignore")  # torchsde warns about queries it clamps to [t0, t1]
torch.set_num_threads(1)


class NoiseSampler:
    """diffusers' BrownianTreeNoiseSampler + BatchedBrownianTree for one integer seed."""

    def __init__(self, x, sigma_min, sigma_max, seed):
        t0, t1 = torch.as_tensor(sigma_min), torch.as_tensor(sigma_max)
        t0, t1, self.sign = (t0, t1, 1) if t0 < t1 else (t1, t0, -1)
        w0 = torch.zeros_like(x)
        self.tree = torchsde.BrownianTree(t0, w0, t1, entropy=seed)

    def __call__(self, sigma, sigma_next):
        t0, t1 = torch.as_tensor(sigma), torch.as_tensor(sigma_next)
        a, b, sign = (t0, t1, 1) if t0 < t1 else (t1, t0, -1)
        w = torch.stack([self.tree(a, b)]) * (self.sign * sign)
        return w[0] / (t1 - t0).abs().sqrt()


def sigmas(n):
    s = torch.linspace(math.log(0.3), math.log(500), n).exp().flip(0)
    return torch.cat([s.to(torch.float32), torch.tensor([0.0], dtype=torch.float32)])


def main(out):
    tensors = {}
    shape = (2, 8, 16)
    for seed in (21, 2**40 + 7, 2**40 + 3):
        for n in (5, 8, 16):
            s = sigmas(n)
            sampler = NoiseSampler(torch.zeros(shape), 0.3, 500, seed)
            tensors[f"seed{seed}_N{n}.sigmas"] = s
            # The last step (sigma_next = 0) is left out: its noise has weight 0 and torchsde may
            # recurse forever when a query rounds to a zero-length interval.
            for i in range(n - 1):
                tensors[f"seed{seed}_N{n}.noise_{i}"] = sampler(s[i], s[i + 1])
    # Raw interval queries in an awkward order (overlapping, backwards, spanning split nodes).
    tree = torchsde.BrownianInterval(t0=float(torch.as_tensor(0.3)), t1=500.0, size=shape, dtype=torch.float32,
                                     entropy=5, tol=1e-6, pool_size=24, halfway_tree=True)
    queries = [(10.0, 20.0), (0.3, 500.0), (15.0, 250.15), (1.2345678, 3.3), (3.3, 400.0), (0.0, 1.2345678),
               (19.99, 20.01), (100.0, 600.0), (42.0, 42.5)]
    tensors["queries"] = torch.tensor(queries, dtype=torch.float64)
    for i, (a, b) in enumerate(queries):
        tensors[f"query_{i}"] = tree(a, b)
    seqs = {"entropy": [], "spawn_key": [], "state": []}
    for entropy, spawn in [(3, ()), (3, (0, 0)), (21, (5, 3)), (2**40 + 5, (12345, 17)), (2**63 + 11, (2**33 + 1, 40)),
                           (0, (1, 1))]:
        state = np.random.SeedSequence(entropy=entropy, spawn_key=spawn, pool_size=24).generate_state(4)
        seqs["entropy"].append(str(entropy))
        seqs["spawn_key"].append([str(k) for k in spawn])
        seqs["state"].append([int(v) for v in state])

    write_safetensors(out, tensors, {"seed_sequence": json.dumps(seqs), "torch": torch.__version__,
                                     "torchsde": torchsde.__version__, "numpy": np.__version__})


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="the .safetensors file to write")
    main(ap.parse_args().out)
