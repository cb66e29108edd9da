#!/usr/bin/env bash
# Starts omnihost on its embedded default: the demo recipe (a tiny random-weight Wan model that the
# build writes into the build folder), bound to 127.0.0.1:8091. Extra args go to the host.
set -euo pipefail
build=${1:-build}; shift || true
cd "$(dirname "$0")/.."
# fp32 GEMM speed on Debian's libtorch: pick OpenBLAS's kernels from the CPU flags unless the
# caller chose (scripts/openblas_coretype.sh, docs/performance.md).
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  coretype=$(scripts/openblas_coretype.sh || true)
  [ -n "$coretype" ] && export OPENBLAS_CORETYPE=$coretype
fi
exec "$build/host/omnihost" --plugin-dir "$build/plugins" --recipe-dir recipes --web-dir web \
  --data-dir "$build/data" "$@"
