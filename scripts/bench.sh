#!/usr/bin/env bash
# Runs every benchmark program the build produced (targets named bench_*). They print figures;
# nothing here asserts on time. Pass BENCH_FILTER=substring to run a subset.
set -uo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
found=0
while IFS= read -r exe; do
  case "$exe" in *"${BENCH_FILTER:-}"*) ;; *) continue ;; esac
  found=1
  echo "==> $(basename "$exe")"
  "$exe" || echo "(benchmark $(basename "$exe") exited with $?)"
done < <(find "$build/bench" -type f -executable -name 'bench_*' 2>/dev/null | sort)
[ $found = 1 ] || echo "no benchmarks built under $build/bench"
