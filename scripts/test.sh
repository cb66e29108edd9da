#!/usr/bin/env bash
# Runs every test: the CTest suite (unit, integration, plugin conformance, golden parity), then
# the browser tests in tests/web when present. Exits non-zero if any part fails.
set -uo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
rc=0
build_abs=$(realpath "$build")
# Container tests set up podman themselves (runc + explicit ulimits, a locally imported image):
# tests/upstream_standin/setup_podman.sh.
# No test may reach the real Hugging Face hub or read the user's cache: a model id that is not on
# disk would otherwise be downloaded on start. A closed loopback port answers at once; the hub tests
# point HF_ENDPOINT at their own stand-in hub and give their hosts a private HF_HOME.
export HF_ENDPOINT=${OMNIHOST_TEST_HF_ENDPOINT:-http://127.0.0.1:9}
export HF_HOME=$(mktemp -d -t omnihost-test-hf.XXXXXX)
trap 'rm -rf "$HF_HOME"' EXIT
ctest --test-dir "$build" --output-on-failure -j 2 || rc=1
if [ -f tests/web/package.json ]; then
  ( cd tests/web && { [ -d node_modules/playwright-core ] || npm install --no-audit --no-fund --silent; } \
    && OMNIHOST_BUILD="$build_abs" node --test --test-concurrency=1 ) || rc=1
fi
exit $rc
