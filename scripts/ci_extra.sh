#!/usr/bin/env bash
# The hardening part of CI, run after `make test`: the ASan+UBSan build's tests, then every fuzz
# target for CI_FUZZ_SECONDS seconds (default 20) from its seed corpus. Exits non-zero if either
# fails; both always run so one failure does not hide the other.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
t0=$(date +%s)
# The ASan tests CI runs: those checked green under the sanitizers so far (the host's unit tests,
# the real omnihost binary over HTTP with the test plugin, manifests and plugin loading, the ABI
# conformance kit on the test plugin, the proxies' parsers, bounded JSON). `make asan` runs the
# whole set (the proxies' integration tests, log bus, media, the host's spawn/fault tests too).
ASAN_TEST_REGEX=${ASAN_TEST_REGEX:-'^(common\.|host\.unit\.|host\.http_(lifecycle|malformed|auth|static|catalog|boundary|limits|features)$|plugin_loader\.|plugin_api\.|proxy\.parsers$)'} \
  scripts/asan_tests.sh build-asan || rc=1
t1=$(date +%s)
FUZZ_SECONDS=${CI_FUZZ_SECONDS:-20} scripts/fuzz.sh || rc=1
t2=$(date +%s)
echo "ci_extra: asan $((t1 - t0))s, fuzz $((t2 - t1))s"
exit $rc
