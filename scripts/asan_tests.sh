#!/usr/bin/env bash
# Builds the host, the proxy plugins, the test plugin and the parsers with ASan+UBSan
# (-DOMNIHOST_SANITIZE=ON, any undefined behaviour aborts) in its own build folder, and runs their
# CTest tests there. The libtorch targets (video_diffusion, the model libraries and their parity
# tests) are left out: fuzz/ covers their parsers (safetensors, configs) under the sanitizers, and
# instrumenting the model code would add most of an hour of compilation on a 2-core machine.
#
#   scripts/asan_tests.sh [build-dir]        default build-asan
# Environment: JOBS (nproc), ASAN_TEST_REGEX (which CTest tests; default below).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-asan}
jobs=${JOBS:-$(nproc)}
regex=${ASAN_TEST_REGEX:-'^(common\.|host\.|log_bus\.|plugin_api\.|plugin_loader\.|proxy\.|media\.)'}
# The host tests that run the libtorch plugins (video_diffusion, stable_audio); host.demo_oom also
# caps the host's address space, which the sanitizer's shadow memory alone exceeds. tokenizer.* is not
# matched: its client loads the sentencepiece module with RTLD_DEEPBIND, which the sanitizer
# runtime refuses (prompt cleaning is fuzzed under ASan+UBSan instead, fuzz/prompt_clean.cpp).
exclude='^host\.((demo|audio|i2v)_e2e|openai_demo|demo_oom)$'

# Configured every time (seconds), so the test list read below is the tree's current one.
# -O1 -g1: the sanitizers' usual setting (line numbers in reports, quick to compile); NDEBUG
# stays off so the code's own assertions are checked too.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOMNIHOST_SANITIZE=ON \
  "-DCMAKE_C_FLAGS_RELEASE=-O1 -g1" "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -g1" \
  >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; echo "asan: configure failed"; exit 1; }
# Build exactly what the chosen tests run: every file of this build folder named on their command
# lines (test executables, the conformance tool and the plugins it is given); each test executable
# depends on the binaries and plugins its tests start.
abs=$(cd "$build" && pwd)
targets=()
while IFS= read -r line; do
  name=$(sed -E 's/^add_test\(\[=\[([^]]*)\]=\].*/\1/' <<<"$line")
  grep -Eq "$regex" <<<"$name" || continue
  ! grep -Eq "$exclude" <<<"$name" || continue
  while read -r path; do targets+=("${path#"$abs"/}"); done < <(grep -o "\"$abs/[^\"]*\"" <<<"$line" | tr -d '"')
done < <(grep -rh '^add_test(' "$build" --include=CTestTestfile.cmake)
mapfile -t targets < <(printf '%s\n' "${targets[@]}" | sort -u)
[ -n "${targets[0]:-}" ] || { echo "asan: no test matches $regex"; exit 1; }
start=$(date +%s)
cmake --build "$build" -j "$jobs" --target "${targets[@]}" || { echo "asan: build failed"; exit 1; }
echo "asan: build took $(( $(date +%s) - start ))s"

# Every report is fatal and names its stack; children (the host under test, the stand-in
# upstream) inherit these settings.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Leaks are reported, except the ones the design makes on purpose (scripts/lsan.supp says which).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/scripts/lsan.supp}
start=$(date +%s)
ctest --test-dir "$build" --output-on-failure -j 2 -R "$regex" -E "$exclude"
rc=$?
echo "asan: tests took $(( $(date +%s) - start ))s"
exit $rc
