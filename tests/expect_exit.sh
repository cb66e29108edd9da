#!/usr/bin/env bash
# expect_exit.sh CODE PATTERN COMMAND [ARGS...]
# A negative test that still fails on a crash: passes only when COMMAND exits with exactly CODE
# (a signal or an abort gives another status) and its output (stdout + stderr) matches the
# extended regular expression PATTERN. CTest's WILL_FAIL would pass on any failure, a crash too.
set -u
if [ $# -lt 3 ]; then
  echo "usage: $0 CODE PATTERN COMMAND [ARGS...]" >&2
  exit 2
fi
want=$1
pattern=$2
shift 2
output=$("$@" 2>&1)
rc=$?
printf '%s\n' "$output"
if [ "$rc" -ne "$want" ]; then
  echo "expect_exit: '$1' exited with $rc, expected $want" >&2
  exit 1
fi
if ! printf '%s\n' "$output" | grep -Eq -- "$pattern"; then
  echo "expect_exit: the output does not match /$pattern/" >&2
  exit 1
fi
echo "expect_exit: exit $rc and /$pattern/ as expected"
