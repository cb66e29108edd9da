#!/usr/bin/env bash
# Create (or reuse) the project venv holding the pip torch that `make TORCH=pip` and
# -DOMNIHOST_TORCH=pip build against.
#
#   scripts/setup_torch_venv.sh [--cpu-only] [VENV]      (VENV defaults to .venv-torch)
#
# The PyPI torch wheel for Linux x86_64 carries CUDA. Without --cpu-only, pip installs it with all
# of its NVIDIA wheels (cuDNN, cuBLAS, NCCL, ...): what a GPU machine needs. --cpu-only installs
# the same torch wheel with --no-deps plus only the two small NVIDIA runtime wheels its CPU library
# links (libcudart, libcupti); nothing else (no sympy/networkx either: the C++ build needs none).
# The build then links libtorch_cpu only. Measured here (2.15.0):
#   full      2.8 GB download (29 wheels), 5.2 GB installed
#   cpu-only  0.55 GB download, 1.3 GB installed, ~50 s
# TORCH_PIP_VERSION overrides the pinned version (the runtime pins then may need TORCH_PIP_CUDA_PINS).
set -euo pipefail
cd "$(dirname "$0")/.."

cpu_only=0
venv=.venv-torch
for a in "$@"; do
  case "$a" in
    --cpu-only) cpu_only=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "setup_torch_venv: unknown option $a" >&2; exit 2 ;;
    *) venv=$a ;;
  esac
done

torch_version=${TORCH_PIP_VERSION:-2.15.0}
# The runtime wheels torch 2.15.0's libtorch_cpu.so links (its cuda-toolkit 13.2.2 requirement).
cuda_pins=${TORCH_PIP_CUDA_PINS:-"nvidia-cuda-runtime==13.2.86 nvidia-cuda-cupti==13.2.86"}

python=${PYTHON:-python3}
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "setup_torch_venv: $python cannot create venvs (Debian: apt-get install python3-venv)" >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi

have=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true)
if [ "$have" = "$torch_version" ] || [ "${have%%+*}" = "$torch_version" ]; then
  echo "setup_torch_venv: $venv already holds torch $have"
else
  if [ "$cpu_only" = 1 ]; then
    # shellcheck disable=SC2086  # the pins are a word list
    "$venv/bin/pip" install --no-deps --no-cache-dir "torch==$torch_version" $cuda_pins
  else
    "$venv/bin/pip" install --no-cache-dir "torch==$torch_version"
  fi
fi
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "setup_torch_venv: torch $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("torch"))') in $venv ($(du -sh "$site" | cut -f1) site-packages)"
