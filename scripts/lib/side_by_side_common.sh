# Sourced by scripts/bench_wan_side_by_side.sh and scripts/bench_stable_audio_side_by_side.sh: what
# both do before measuring (their options, --help, the built benches they need, the Python packages
# installed beside the venv). Defines functions only; the calling script keeps `set -euo pipefail`.

# --help: the calling script's header, the comment block under the #! line.
sbs_help() {
  awk 'NR > 1 { if (!/^#/) exit; print }' "$0"
}

# sbs_parse_options "$@": the caller declares its options first (defaults already set):
#   declare -A sbs_values=([--build]=build ...)        --build DIR sets $build
#   declare -A sbs_flags=([--no-x]=x=0 ...)            --no-x sets $x to 0
# -h/--help prints the header and exits 0; an unknown option or a missing value exits 2.
sbs_parse_options() {
  while [ $# -gt 0 ]; do
    if [ "$1" = -h ] || [ "$1" = --help ]; then
      sbs_help
      exit 0
    elif [ -n "${sbs_values[$1]+set}" ]; then
      if [ $# -lt 2 ]; then echo "$1 needs a value (see --help)" >&2; exit 2; fi
      printf -v "${sbs_values[$1]}" '%s' "$2"
      shift 2
    elif [ -n "${sbs_flags[$1]+set}" ]; then
      printf -v "${sbs_flags[$1]%%=*}" '%s' "${sbs_flags[$1]#*=}"
      shift
    else
      echo "unknown option $1 (see --help)" >&2
      exit 2
    fi
  done
}

# sbs_require_built BUILD EXE...: every EXE (a path under BUILD) is built, else says how and exits 2.
sbs_require_built() {
  local build=$1 exe targets=()
  shift
  for exe in "$@"; do targets+=("$(basename "$exe")"); done
  for exe in "$@"; do
    if [ ! -x "$exe" ]; then
      echo "$exe not built: cmake --build $build --target ${targets[*]}" >&2
      exit 2
    fi
  done
}

# sbs_pydeps PY DIR "MODULE..." SPEC...: puts DIR on PYTHONPATH and, when PY cannot import every
# MODULE (from its venv or an earlier install in DIR), installs SPEC... there with pip --target
# (--no-deps: the pinned versions are the whole set).
sbs_pydeps() {
  local py=$1 dir=$2 modules=$3
  shift 3
  export PYTHONPATH="$dir${PYTHONPATH:+:$PYTHONPATH}"
  if ! "$py" -c "import ${modules// /, }" 2>/dev/null; then
    "$py" -m pip install --quiet --no-deps --target "$dir" "$@"
  fi
}
