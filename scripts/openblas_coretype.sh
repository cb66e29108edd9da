#!/usr/bin/env bash
# Prints the OpenBLAS kernel family for this CPU, for OPENBLAS_CORETYPE, or nothing.
# Why: Debian's OpenBLAS 0.3.21 (which Debian's libtorch uses for fp32 GEMM) does not recognise
# the virtual CPUs of cloud machines and falls back to its generic "Prescott" kernels: 3-5x slower
# fp32 matmuls (docs/performance.md). The variable is read once, when libopenblas loads, so it
# must be in the environment before the process starts. SkylakeX kernels use AVX-512 and crash
# without it, so the choice follows /proc/cpuinfo's flags; a value the user set is never replaced
# (scripts/run.sh only calls this when OPENBLAS_CORETYPE is unset).
#   scripts/openblas_coretype.sh [CPUINFO]     (default /proc/cpuinfo)
set -euo pipefail
cpuinfo=${1:-/proc/cpuinfo}
[ -r "$cpuinfo" ] || exit 0
flags=" $(grep -m1 '^flags' "$cpuinfo" | cut -d: -f2) "
has() { for f in "$@"; do case "$flags" in *" $f "*) ;; *) return 1 ;; esac; done; }
if has avx512f avx512cd avx512bw avx512dq avx512vl; then
  echo SkylakeX
elif has avx2 fma; then
  echo Haswell
fi
