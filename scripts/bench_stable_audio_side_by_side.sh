#!/usr/bin/env bash
# Stable Audio Open 1.0 benchmark side by side: omnihost (bench_stable_audio, libtorch) and diffusers
# (bench/stable_audio/bench_stable_audio_diffusers.py, PyTorch) on the SAME random weights, inputs,
# latent length and thread count, in the same environment, one process per phase (so every peak
# RSS is that phase's own). Prints both sides' figures and diffusers/omnihost ratios (> 1: omnihost
# faster or smaller). Prints, never asserts.
#
#   scripts/bench_stable_audio_side_by_side.sh [--build DIR] [--layers N] [--steps N] [--seconds S]
#       [--threads N] [--dtype fp32|bf16|both] [--part dit|vae|all] [--openblas unset|detected|both]
#       [--work DIR]
#
# --openblas: Debian's OpenBLAS (libtorch's fp32 GEMM here) misdetects some virtual CPUs and runs
# generic Prescott kernels unless OPENBLAS_CORETYPE is set. "both" (default) runs every phase with
# the variable unset and with the value scripts/openblas_coretype.sh picks, and says which; both
# sides always get the same environment (pip's torch uses MKL/oneDNN and ignores it).
# OPENBLAS_L2_SIZE is passed through as the caller set it and printed.
#
# Python: $VENV if set (a venv with diffusers and torch), else a venv created under
# --work with pinned versions ($TORCH_SPEC, $DIFFUSERS_SPEC). torchsde (the scheduler's noise) is
# installed beside it with --target when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib/side_by_side_common.sh
. scripts/lib/side_by_side_common.sh

build=build layers=2 steps=3 seconds="" threads=0 dtype=both part=all openblas=both
work=${TMPDIR:-/tmp}/bench_stable_audio_side_by_side
declare -A sbs_values=([--build]=build [--layers]=layers [--steps]=steps [--seconds]=seconds [--threads]=threads
  [--dtype]=dtype [--part]=part [--openblas]=openblas [--work]=work)
sbs_parse_options "$@"

exe=$build/bench/stable_audio/bench_stable_audio
sbs_require_built "$build" "$exe"
mkdir -p "$work/logs"

# --- Python with diffusers.
py=""
if [ -n "${VENV:-}" ]; then
  py=$VENV/bin/python
else
  if [ ! -x "$work/venv/bin/python" ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install --quiet "${TORCH_SPEC:-torch==2.15.0}"
    "$work/venv/bin/pip" install --quiet "${DIFFUSERS_SPEC:-diffusers==0.42.1}" safetensors==0.7.0 numpy
  fi
  py=$work/venv/bin/python
fi
sbs_pydeps "$py" "$work/pydeps" torchsde torchsde==0.2.6 trampoline==0.1.2
pybench=(env PYTHONWARNINGS=ignore "$py" bench/stable_audio/bench_stable_audio_diffusers.py "$work/model")

# --- The random weights, once (the diffusers side loads these files).
size_args=(--layers "$layers")
[ -n "$seconds" ] && size_args+=(--seconds "$seconds")
echo "== saving random weights ($layers of 24 blocks) to $work/model"
rm -rf "$work/model"
"$exe" "${size_args[@]}" --save-random "$work/model" --save-only | tail -n 1

coretype=$(scripts/openblas_coretype.sh || true)
settings=()
case "$openblas" in
  unset) settings=(unset) ;;
  detected) settings=("${coretype:-unset}") ;;
  both) settings=(unset); [ -n "$coretype" ] && settings+=("$coretype") ;;
  *) echo "--openblas must be unset, detected or both" >&2; exit 2 ;;
esac

dtypes=(fp32 bf16)
[ "$dtype" = both ] || dtypes=("$dtype")
phases=()
if [ "$part" != vae ]; then for d in "${dtypes[@]}"; do phases+=("dit:$d"); done; fi
[ "$part" != dit ] && phases+=("vae:fp32")

summary=()
ratio() {  # label, omnihost line, diffusers line: the first "s wall", "CPU-s" and "peak RSS" figures
  first() { grep -o -E "$1" <<<"$2" | head -n1 | grep -o -E '[0-9.]+' | head -n1; }
  local ow dw oc dc op dp
  ow=$(first '[0-9.]+ s wall' "$2") dw=$(first '[0-9.]+ s wall' "$3")
  oc=$(first '[0-9.]+ CPU-s' "$2") dc=$(first '[0-9.]+ CPU-s' "$3")
  op=$(first 'peak RSS ~?[0-9]+' "$2") dp=$(first 'peak RSS ~?[0-9]+' "$3")
  awk -v l="$1" -v ow="$ow" -v dw="$dw" -v oc="$oc" -v dc="$dc" -v op="$op" -v dp="$dp" 'BEGIN {
    if (ow == "" || dw == "") { printf "%-44s (a side did not report)\n", l; exit }
    printf "%-44s wall %8.2f s vs %8.2f s  x%.2f | CPU %7.1f vs %7.1f  x%.2f | peak %6d vs %6d MiB  x%.2f\n",
      l, ow, dw, dw / ow, oc, dc, (oc > 0 ? dc / oc : 0), op, dp, (op > 0 ? dp / op : 0) }'
}

for s in "${settings[@]}"; do
  if [ "$s" = unset ]; then envs=(env -u OPENBLAS_CORETYPE); label="OPENBLAS_CORETYPE unset"
  else envs=(env OPENBLAS_CORETYPE="$s"); label="OPENBLAS_CORETYPE=$s"; fi
  label="$label, OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-(unset)}"
  for ph in "${phases[@]}"; do
    kind=${ph%%:*} d=${ph#*:}
    echo "== $kind $d, $label"
    common=(--part "$kind" --steps "$steps" --threads "$threads")
    [ "$kind" = dit ] && common+=(--dtype "$d") || common+=(--vae-dtype "$d")
    log_o=$work/logs/$s-$kind-$d-omnihost.log log_d=$work/logs/$s-$kind-$d-diffusers.log
    "${envs[@]}" "$exe" "${size_args[@]}" "${common[@]}" 2>&1 | tee "$log_o" || true
    "${envs[@]}" "${pybench[@]}" "${common[@]}" 2>&1 | grep -v -e accelerate -e '^```' -e '^\.$' -e WeightNorm \
      | tee "$log_d" || true
    out_o=$(cat "$log_o") out_d=$(cat "$log_d")
    for kindword in MEASURED EXTRAPOLATED; do
      lo=$(grep "\[$kind $d\] $kindword" <<<"$out_o" || true)
      ld=$(grep "\[$kind $d\] $kindword" <<<"$out_d" || true)
      [ -n "$lo$ld" ] && summary+=("$(ratio "$kind $d $kindword ($s)" "$lo" "$ld")")
    done
    if [ "$kind" = dit ]; then
      summary+=("   step 1 prediction mean |v| (same weights and inputs, should agree): omnihost $(
        sed -n 's/.*mean |v| = //p' "$log_o") diffusers $(sed -n 's/.*mean |v| = //p' "$log_d")")
    fi
  done
done

echo
echo "== omnihost vs diffusers (ratio = diffusers / omnihost; > 1 means omnihost is faster / smaller)"
echo "   load average now: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs; threads ${threads/#0/all}"
printf '%s\n' "${summary[@]}"
