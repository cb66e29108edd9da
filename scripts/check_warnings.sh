#!/usr/bin/env bash
# check_warnings.sh BUILD_LOG — the CI warning gate: fails when the compiler printed any warning
# into BUILD_LOG (the output of the build step), listing each one once.
#
# Why a grep and not -Werror (OMNIHOST_WERROR=ON): -Werror changes every compile command, so the
# ccache entries made by the ordinary build would all miss and CI would compile the tree twice.
# ccache replays a cached compile's stderr, so the warnings of cache hits reach the log too, and the
# build's objects stay shared with `make test`. Only compiler diagnostics (file:line:col: warning:)
# count, so a test printing the word "warning:" does not trip it.
set -uo pipefail
log=${1:?usage: check_warnings.sh BUILD_LOG}
[ -f "$log" ] || { echo "check_warnings: no build log $log" >&2; exit 2; }
found=$(grep -E '^[^ :]+:[0-9]+(:[0-9]+)?: warning: ' "$log" | sed -E 's#^(\.\./)+##' | sort -u)
if [ -n "$found" ]; then
  echo "check_warnings: $(printf '%s\n' "$found" | wc -l) compiler warning(s) in the build:" >&2
  printf '%s\n' "$found" >&2
  exit 1
fi
echo "check_warnings: no compiler warnings"
