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
ctest --test-dir "$build" --output-on-failure -j 2 || rc=1
if [ -f tests/web/package.json ]; then
  ( cd tests/web && { [ -d node_modules/playwright-core ] || npm install --no-audit --no-fund --silent; } \
    && OMNIHOST_BUILD="$build_abs" node --test --test-concurrency=1 ) || rc=1
fi
exit $rc
