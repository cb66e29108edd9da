#!/usr/bin/env bash
# Proves the parity runners read the parameters a case file states instead of assuming them:
# copies of golden cases are written to a temporary golden root, once unchanged (must PASS) and
# once with one stated parameter changed or set to null (must FAIL on a tensor mismatch, not on a
# parse error). Usage: case_params_test.sh GOLDEN_DIR RUNNER CASE_NAME CASE_FILE EDIT...
#   CASE_NAME  the runner's case name (e.g. wan21/scheduler_flowmatch_sequence)
#   CASE_FILE  the case path under the golden root without extension (wan21_cases/...)
#   EDIT       sed expressions; each is applied alone to a fresh copy, which must then FAIL
set -euo pipefail
golden=$1 runner=$2 name=$3 case_file=$4
shift 4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for d in "$golden"/*/; do
  base=$(basename "$d")
  [[ $base == *_cases ]] && mkdir -p "$tmp/$base" || ln -s "$d" "$tmp/$base"
done
# Model folders named inside *_cases (e.g. transformer_patch_model) are not needed by these cases.
cp "$golden/$case_file.safetensors" "$tmp/$case_file.safetensors"

run() {  # run EXPECT (PASS|FAIL) DESCRIPTION
  local out
  out=$("$runner" --golden "$tmp" "$name" 2>&1) || true
  local line
  line=$(grep -E "^(PASS|FAIL) $name( |$)" <<<"$out" || true)
  if [[ $line != "$1 "* ]]; then
    echo "expected $1 for $2, got: ${line:-<no result line>}"; echo "$out"; exit 1
  fi
  if [[ $1 == FAIL ]] && grep -qiE "cannot|missing|no \"|invalid JSON|neither" <<<"$line"; then
    echo "expected a numerical mismatch for $2, got a reading error: $line"; exit 1
  fi
  echo "ok: $1 $2"
}

cp "$golden/$case_file.json" "$tmp/$case_file.json"
run PASS "unchanged copy"
for edit in "$@"; do
  sed -e "$edit" "$golden/$case_file.json" >"$tmp/$case_file.json"
  if cmp -s "$golden/$case_file.json" "$tmp/$case_file.json"; then echo "edit '$edit' changed nothing"; exit 1; fi
  run FAIL "edit '$edit'"
done
