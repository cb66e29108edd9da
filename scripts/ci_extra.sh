#!/usr/bin/env bash
# The hardening part of CI, run after `make test`: the ASan+UBSan build's tests, then every fuzz
# target for CI_FUZZ_SECONDS seconds (default 20) from its seed corpus. Exits non-zero if either
# fails; both always run so one failure does not hide the other.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
t0=$(date +%s)
# The ASan tests CI runs: scripts/asan_tests.sh's whole set (the host's unit and HTTP tests with the
# real binary, log bus, media, plugin loading, the conformance kit, every proxy test including the
# real podman and kill -9 ones, bounded JSON); all checked green under the sanitizers.
scripts/asan_tests.sh build-asan || rc=1
t1=$(date +%s)
FUZZ_SECONDS=${CI_FUZZ_SECONDS:-20} scripts/fuzz.sh || rc=1
t2=$(date +%s)
echo "ci_extra: asan $((t1 - t0))s, fuzz $((t2 - t1))s"
exit $rc
