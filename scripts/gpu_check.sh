#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU and a PyTorch install but none of the Debian -dev
# packages. Builds the model libraries, the torch-only parity runners and the model benches
# against that torch (scripts/gpu_check/CMakeLists.txt, OMNIHOST_TORCH=pip), then:
#   1. the goldens on the CPU in fp32 (the build itself is right),
#   2. the goldens on CUDA in fp32 (golden tolerances) and in bf16 (atol/rtol 5e-2 against the fp32
#      goldens; cases that take no device/dtype are marked by the runner as having run on the CPU),
#   3. one Wan2.1-1.3B-shaped transformer step (2 forwards, CFG) at 480x832, 81 frames (latent
#      21x60x104 = 32,760 tokens) in bf16 with random weights, timed, with the peak GPU memory that
#      nvidia-smi reports while it runs (driver view: includes the CUDA context),
#   4. diffusers' WanTransformer3DModel forward on the same weights (saved by the bench) when
#      diffusers imports, with torch.cuda.max_memory_allocated,
#   5. device_check (scripts/gpu_check/device_check.cpp) in fp32 and bf16: CPU model offload
#      bit-identical to resident weights, the offload order, the peak device memory reading, a Wan
#      transformer forward captured in a CUDA graph (core/device_graph) and Stable Audio's CFG step
#      through core/step_graph_cache, each replayed against the eager forward (enforce_eager=false).
# Without a usable GPU it says so, runs 1 only and exits 3 (GPU parts not run).
#   scripts/gpu_check.sh [--python PY] [--build DIR] [--golden DIR] [--layers N] [--skip-step]
# Needs: cmake (>= 3.20), ninja or make, a C++20 compiler, and a python whose torch is a 2.x
# wheel (default: python3 on PATH). nlohmann-json is pip-installed into a scratch folder if absent.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
python=${PYTHON:-python3}
build=build-gpucheck
golden=$(cd .. && pwd)/shared/golden
layers=30
skip_step=0
while [ $# -gt 0 ]; do
  case "$1" in
    --python) python=$2; shift ;;
    --build) build=$2; shift ;;
    --golden) golden=$2; shift ;;
    --layers) layers=$2; shift ;;
    --skip-step) skip_step=1 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "gpu_check: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
say() { echo "gpu_check: $*"; }
die() { echo "gpu_check: FAIL: $*" >&2; exit 1; }

# --- what this machine has -------------------------------------------------------------------
command -v cmake >/dev/null || die "cmake not found (pip install cmake ninja works without root)"
python=$(command -v "$python") || die "no python ($python)"
"$python" -c 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("torch") else 1)' \
  || die "$python has no torch (pip install torch)"
torch_info=$("$python" -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available(), torch.cuda.device_count(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-")' 2>&1) \
  || torch_info="? ? False 0 - (import torch failed: ${torch_info##*$'\n'})"
read -r torch_version torch_cuda cuda_ok cuda_count gpu_name <<<"$torch_info"
say "python $python: torch $torch_version (CUDA build $torch_cuda), cuda available: $cuda_ok, devices: $cuda_count, GPU: $gpu_name"
gpu=0
if [ "$cuda_ok" = "True" ] && command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  gpu=1
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | sed 's/^/gpu_check: GPU /'
else
  why="torch.cuda.is_available() is $cuda_ok"
  command -v nvidia-smi >/dev/null || why="$why; no nvidia-smi"
  say "NO GPU: $why. The CUDA goldens, the bf16 step timing and diffusers' step are SKIPPED; building and running the CPU goldens only."
fi

# --- build -------------------------------------------------------------------------------------
json_flag=()
if ! [ -f /usr/include/nlohmann/json.hpp ] && ! [ -f /usr/local/include/nlohmann/json.hpp ]; then
  deps=$build/pydeps
  [ -f "$deps/nlohmann_json/include/nlohmann/json.hpp" ] || "$python" -m pip install -q --target "$deps" nlohmann-json \
    || die "no nlohmann/json.hpp and pip install nlohmann-json failed"
  json_flag=(-DOMNIHOST_JSON_INCLUDE="$root/$deps/nlohmann_json/include")
fi
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S scripts/gpu_check -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DOMNIHOST_TORCH_PYTHON="$python" \
  -DOMNIHOST_GOLDEN_DIR="$golden" "${json_flag[@]}" >"$build.configure.log" 2>&1 \
  || { tail -30 "$build.configure.log"; die "configure failed (log: $build.configure.log)"; }
grep -E "^-- libtorch:" "$build.configure.log"
runners=(parity_wan_transformer parity_wan_vae parity_stable_audio_dit parity_oobleck parity_schedulers)
cmake --build "$build" -j "$(nproc)" --target "${runners[@]}" bench_wan_transformer bench_wan_vae device_check \
  || die "build failed"

# --- goldens -----------------------------------------------------------------------------------
status=0
# Each runner is tests/models/<component>/parity_<component> in the build folder.
run_goldens() {  # device dtype
  local r rc=0
  for r in "${runners[@]}"; do
    say "$r --device $1 --dtype $2"
    "$build/tests/models/${r#parity_}/$r" --golden "$golden" --device "$1" --dtype "$2" 2>&1 \
      || rc=1
  done
  return $rc
}
run_goldens cpu fp32 || { status=1; say "FAIL: CPU goldens"; }
"$build/device_check" --device cpu --dtype fp32 || { status=1; say "FAIL: device_check on the CPU"; }
if [ $gpu = 1 ]; then
  run_goldens cuda fp32 || { status=1; say "FAIL: CUDA fp32 goldens"; }
  run_goldens cuda bf16 || { status=1; say "FAIL: CUDA bf16 goldens"; }
  for dt in fp32 bf16; do
    "$build/device_check" --device cuda --dtype $dt || { status=1; say "FAIL: device_check cuda $dt"; }
  done
else
  say "SKIPPED: goldens and device_check on CUDA (fp32, bf16): no GPU"
fi

# --- one Wan2.1-1.3B step at 480x832x81, bf16 -------------------------------------------------
if [ $gpu = 1 ] && [ $skip_step = 0 ]; then
  weights=$build/wan13b_random
  smi_log=$build/nvidia_smi_mem.csv
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$smi_log" 2>/dev/null &
  smi=$!
  "$build/bench/models/bench_wan_transformer" --device cuda --dtype bf16 --layers "$layers" --latent 21x60x104 \
    --forwards 3 --save-random "$weights" || status=1
  kill "$smi" 2>/dev/null; wait "$smi" 2>/dev/null
  say "omnihost peak GPU memory (nvidia-smi, MiB, incl. context): $(sort -n "$smi_log" | tail -1)"
  if "$python" -c 'import diffusers' 2>/dev/null; then
    "$python" - "$weights" <<'PY' || status=1
import sys, time, torch
from diffusers import WanTransformer3DModel
d = sys.argv[1]
m = WanTransformer3DModel.from_pretrained(d, torch_dtype=torch.bfloat16).to("cuda").eval()
g = torch.Generator("cpu").manual_seed(7)
x = torch.randn(1, 16, 21, 60, 104, generator=g).to("cuda", torch.bfloat16)
ctx = torch.randn(1, 512, 4096, generator=g).to("cuda", torch.bfloat16)
t = torch.tensor([999], device="cuda")
torch.cuda.reset_peak_memory_stats()
times = []
with torch.inference_mode():
    for i in range(3):
        torch.cuda.synchronize(); t0 = time.perf_counter()
        m(hidden_states=x, timestep=t, encoder_hidden_states=ctx, return_dict=False)
        torch.cuda.synchronize(); times.append(time.perf_counter() - t0)
        print(f"gpu_check: diffusers forward {i + 1}: {times[-1]:.3f} s", flush=True)
per = sum(times[1:]) / len(times[1:])
print(f"gpu_check: diffusers per forward {per:.3f} s (excluding the first); per step with CFG {2 * per:.3f} s; "
      f"peak allocated {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB ({torch.cuda.get_device_name(0)})")
PY
  else
    say "SKIPPED: diffusers' step (diffusers does not import in $python)"
  fi
elif [ $gpu = 0 ]; then
  say "SKIPPED: Wan2.1-1.3B bf16 step at 480x832x81 and diffusers' step: no GPU"
fi

if [ $status != 0 ]; then say "FAILED (see above)"; exit 1; fi
if [ $gpu = 0 ]; then say "CPU part passed; GPU parts NOT run (no GPU): exit 3"; exit 3; fi
say "all GPU checks passed"
