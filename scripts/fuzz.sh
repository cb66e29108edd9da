#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan+UBSan, in its own build folder) and runs
# each one for FUZZ_SECONDS seconds, starting from its seed corpus fuzz/corpus/<target>/. Prints
# the executions per target (libFuzzer's stat::number_of_executed_units). Exits non-zero when a
# target does not build or finds a fault; the input that did it is kept under
# $FUZZ_WORK/<target>/artifacts/ (rerun it with: $FUZZ_BUILD/fuzz/fuzz_<target> <file>).
#
#   scripts/fuzz.sh [target...]         default: every fuzz/<target>.cpp
# Environment: FUZZ_SECONDS (60), FUZZ_BUILD (build-fuzz), FUZZ_WORK ($FUZZ_BUILD/fuzz-work),
#   FUZZ_CC / FUZZ_CXX (clang-14 / clang++-14), JOBS (nproc), OMNIHOST_FUZZ_STRICT=1 (also fail on
#   the findings already reported, see fuzz/README.md).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
build=${FUZZ_BUILD:-build-fuzz}
work=${FUZZ_WORK:-$build/fuzz-work}
jobs=${JOBS:-$(nproc)}

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in fuzz/*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

if [ ! -f "$build/build.ninja" ]; then
  # -O1 with line tables: fast to build, fast enough to fuzz, readable stack traces; NDEBUG stays
  # off so the code's own assertions are checked too.
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOMNIHOST_FUZZ=ON \
    -DCMAKE_C_COMPILER="${FUZZ_CC:-clang-14}" -DCMAKE_CXX_COMPILER="${FUZZ_CXX:-clang++-14}" \
    "-DCMAKE_C_FLAGS_RELEASE=-O1 -gline-tables-only" "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -gline-tables-only" \
    >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; echo "fuzz: configure failed"; exit 1; }
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
cmake --build "$build" -j "$jobs" --target "${build_targets[@]}" || { echo "fuzz: build failed"; exit 1; }

rc=0
results=()
for t in "${targets[@]}"; do
  dir="$work/$t"
  rm -rf "$dir/artifacts" "$dir/tmp"
  mkdir -p "$dir/corpus" "$dir/artifacts" "$dir/tmp"
  # New inputs go to $dir/corpus (kept between runs, never into the tree); fuzz/corpus/<t> is read.
  # -timeout: one input running longer is a hang and a finding; -rss_limit_mb also bounds a
  # single allocation (an input that makes the parser allocate gigabytes is a finding too).
  # The JSON targets get the JSON tokens and field names as a dictionary.
  dict=()
  case "$t" in codec|remote_url|prompt_clean) ;; *) dict=(-dict=fuzz/dict/json.dict) ;; esac
  TMPDIR="$dir/tmp" "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=30 -rss_limit_mb=4096 -artifact_prefix="$dir/artifacts/" "${dict[@]}" \
    "$dir/corpus" "fuzz/corpus/$t" >"$dir/log" 2>&1
  code=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  if [ $code -eq 0 ]; then
    results+=("$(printf '%-14s %12s executions in %ss  ok' "$t" "${execs:-?}" "$seconds")")
  else
    rc=1
    results+=("$(printf '%-14s %12s executions  FAULT (exit %d), input in %s' "$t" "${execs:-?}" "$code" "$dir/artifacts/")")
    echo "---- fuzz_$t found a fault; the end of its log ($dir/log):"
    grep -v '^#[0-9]' "$dir/log" | tail -40
  fi
done

echo "fuzz results (FUZZ_SECONDS=$seconds):"
printf '  %s\n' "${results[@]}"
exit $rc
