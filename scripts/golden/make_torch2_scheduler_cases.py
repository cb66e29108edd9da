#!/usr/bin/env python3
"""Re-record the two shared Stable Audio scheduler cases on the torch this venv has (2.x).

The shared goldens (../shared/golden) were recorded on torch 1.13.1. Two of them compare float32
results exactly or nearly exactly, and torch 2.x's elementwise exp/atan kernels round differently by
one ulp: diffusers itself, run on torch 2.15, gives sigma_min = 0.2999999821 where 1.13 gives
0.3000000119, and the 16-step DPM sequence (sample std 500) carries that ulp into a 5e-4 difference.
So a build against the pip torch is checked against these re-recordings of the *same* calls with the
*same* inputs (sample_init, model_outputs and injected_noise are copied from the shared case), made
by the reference (diffusers' CosineDPMSolverMultistepScheduler) on the newer torch. The tolerances are
the shared cases' own. The parity runner reads them with --override (scripts/ci_pip_torch.sh).

  /work/venv-golden/bin/python scripts/golden/make_torch2_scheduler_cases.py [SHARED_GOLDEN] [OUT]
"""
import json
import os
import sys

import torch
import diffusers
from diffusers import CosineDPMSolverMultistepScheduler
from safetensors.torch import load_file, save_file

here = os.path.dirname(os.path.abspath(__file__))
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "shared", "golden")
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "..", "tests", "golden_local", "torch2")
case_dir = os.path.join(out, "stable_audio_cases")
os.makedirs(case_dir, exist_ok=True)
provenance = {"torch": torch.__version__, "diffusers": diffusers.__version__,
              "inputs_from": "shared golden stable_audio_cases (torch 1.13.1 recording)"}


def write(name, tensors, info):
    info = dict(info)
    info["recorded_with"] = provenance
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(case_dir, name + ".safetensors"))
    with open(os.path.join(case_dir, name + ".json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)


def tables():
    with open(os.path.join(shared, "stable_audio_cases", "sa_scheduler_tables.json")) as f:
        info = json.load(f)
    tensors = {}
    for n in info["N"]:
        s = CosineDPMSolverMultistepScheduler(**info["config"])
        s.set_timesteps(n)
        tensors[f"N{n}.sigmas"] = s.sigmas.to(torch.float32)
        tensors[f"N{n}.timesteps"] = s.timesteps.to(torch.float32)
    write("sa_scheduler_tables", tensors, info)


class replayed_noise:
    """Stands in for the Brownian-tree sampler: call i returns the recorded injected_noise[i]."""

    def __init__(self, rows):
        self.rows, self.i = rows, 0

    def __call__(self, sigma, sigma_next):
        row = self.rows[self.i]
        self.i += 1
        return row


def sequence():
    name = "sa_scheduler_sequence"
    with open(os.path.join(shared, "stable_audio_cases", name + ".json")) as f:
        info = json.load(f)
    recorded = load_file(os.path.join(shared, "stable_audio_cases", name + ".safetensors"))
    tensors = {}
    for n in info["N"]:
        p = f"N{n}."
        s = CosineDPMSolverMultistepScheduler(**info["config"])
        s.set_timesteps(n)
        s.noise_sampler = replayed_noise(recorded[p + "injected_noise"])
        x = recorded[p + "sample_init"].clone()
        for k in ("sample_init", "model_outputs", "injected_noise"):
            tensors[p + k] = recorded[p + k]
        tensors[p + "timesteps"] = s.timesteps.to(torch.float32)
        for i, t in enumerate(s.timesteps):
            tensors[p + f"scaled_input_{i}"] = s.scale_model_input(x, t)
            x = s.step(recorded[p + "model_outputs"][i], t, x).prev_sample
            tensors[p + f"sample_{i}"] = x
        if s.noise_sampler.i != n:
            raise SystemExit(f"N={n}: the sampler was called {s.noise_sampler.i} times, expected {n}")
    write(name, tensors, info)


if __name__ == "__main__":
    torch.set_num_threads(2)
    tables()
    sequence()
    print("wrote", case_dir, "with torch", torch.__version__)
