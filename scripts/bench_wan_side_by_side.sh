#!/usr/bin/env bash
# Wan side by side: omnihost (bench_wan_transformer, bench_wan_vae, bench_video built against the
# pip torch) and diffusers (bench/wan_side_by_side/wan_side_by_side_diffusers.py) on the SAME random
# weights (saved once as diffusers folders), the SAME torch, the same thread count and shapes, one
# process per measurement (each peak RSS is that process's own), both sides interleaved and the
# whole set repeated (the order alternates per repeat). Prints medians and ratios omnihost/diffusers
# (< 1: omnihost faster / smaller). Prints, never asserts.
#
#   scripts/bench_wan_side_by_side.sh [--build DIR] [--venv DIR] [--layers N] [--forwards N]
#       [--threads N] [--repeats N] [--parts transformer,vae,mp4] [--no-untiled-480p] [--work DIR]
#       [--vae-frames F] [--vae-repeats N]
#
# Measured: Wan2.1-1.3B-width transformer forward at 1,280 tokens (latent 16x5x32x32, 512 text
# tokens; --layers of the 30 blocks, default 30) in fp32 and bf16 with peak RSS; VAE decode at
# 256x256x17 (untiled) and 480x832x17 tiled (tile 256, stride 192: diffusers' defaults) with peak
# RSS, and 480x832x17 untiled for the tiled/untiled peak (--no-untiled-480p leaves it out); MP4
# export of 81 frames at 480x832 (omnihost's encoder vs diffusers.utils.export_to_video).
# --vae-frames (default 17, 4k+1) shortens every VAE decode where the CPU is too slow for 17 frames:
# both decoders run one latent frame per chunk, so from 5 frames on (a first chunk and one full
# chunk) the peak RSS is the 17-frame one less the smaller output. --vae-repeats (default --repeats)
# repeats the VAE measurements fewer times than the others.
# The transformer timing is per forward; omnihost computes the text context (text embedder and
# every block's cross-attention K/V) once per prompt, diffusers inside every forward.
#
# --build: an omnihost build configured with -DOMNIHOST_TORCH=pip (default build-pip). Its torch
# and the venv's must be the same version: checked, and said whether it is the same install.
# --venv: Python with torch and diffusers (default $VENV, else /work/venv-golden). imageio,
# imageio-ffmpeg (export_to_video's backend) and accelerate (diffusers' low-memory loading) are
# installed beside it with pip --target under --work when missing.
#
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: printed as set, passed unchanged to both sides, never set
# here. To measure without them, unset them for this command alone:
#   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE scripts/bench_wan_side_by_side.sh ...
# (the pip wheel's fp32 GEMM is MKL, which ignores them; Debian's OpenBLAS reads them.)
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib/side_by_side_common.sh
. scripts/lib/side_by_side_common.sh

build=build-pip venv=${VENV:-/work/venv-golden} layers=30 forwards=3 threads=0 repeats=2
parts=transformer,vae,mp4 untiled480=1 work=${TMPDIR:-/tmp}/bench_wan_side_by_side vae_frames=17 vae_repeats=
declare -A sbs_values=([--build]=build [--venv]=venv [--layers]=layers [--forwards]=forwards [--threads]=threads
  [--repeats]=repeats [--parts]=parts [--work]=work [--vae-frames]=vae_frames [--vae-repeats]=vae_repeats)
declare -A sbs_flags=([--no-untiled-480p]=untiled480=0)
sbs_parse_options "$@"
[ "$threads" -gt 0 ] || threads=$(nproc)
vae_repeats=${vae_repeats:-$repeats}
f=$vae_frames
has_part() { [[ ",$parts," == *",$1,"* ]]; }

tr_exe=$build/bench/models/bench_wan_transformer
vae_exe=$build/bench/wan_vae/bench_wan_vae
video_exe=$build/bench/video/bench_video
sbs_require_built "$build" "$tr_exe" "$vae_exe" "$video_exe"
py=$venv/bin/python
mkdir -p "$work/logs"

# --- The same torch on both sides.
build_torch_dir=$(sed -n 's|^OMNIHOST_TORCH_PREFIX:INTERNAL=\(.*\)/share/cmake$|\1|p' "$build/CMakeCache.txt")
if [ -z "$build_torch_dir" ]; then
  echo "$build is not configured with -DOMNIHOST_TORCH=pip (no OMNIHOST_TORCH_PREFIX in its cache)" >&2
  exit 2
fi
py_torch_dir=$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
version_of() { sed -n 's/^Version: //p' "$(dirname "$1")"/torch-*.dist-info/METADATA | head -n1; }
build_version=$(version_of "$build_torch_dir") py_version=$(version_of "$py_torch_dir")
echo "# omnihost: $build, torch $build_version at $build_torch_dir"
echo "# diffusers: $py, torch $py_version at $py_torch_dir, diffusers $("$py" -c 'import diffusers; print(diffusers.__version__)')"
if [ "$build_version" != "$py_version" ]; then
  echo "# DIFFERENT torch versions on the two sides: the ratios below compare unlike with like" >&2
elif [ "$(realpath "$build_torch_dir")" = "$(realpath "$py_torch_dir")" ]; then
  echo "# same torch install on both sides"
elif cmp -s "$build_torch_dir/lib/libtorch_cpu.so" "$py_torch_dir/lib/libtorch_cpu.so"; then
  echo "# same torch version, two installs with byte-identical lib/libtorch_cpu.so"
else
  echo "# same torch version, two installs whose lib/libtorch_cpu.so differ"
fi
echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-(unset)} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-(unset)} (both sides, unchanged)"
echo "# threads $threads on both sides (at::set_num_threads / torch.set_num_threads), $(nproc) CPUs"

# export_to_video's backend, and accelerate: without it diffusers loads with low_cpu_mem_usage=False,
# which WanTransformer3DModel (fp32-kept modules) refuses.
sbs_pydeps "$py" "$work/pydeps" "imageio imageio_ffmpeg accelerate" imageio==2.37.0 imageio-ffmpeg==0.6.0 \
  accelerate==1.12.0 psutil==7.1.3
driver=(env PYTHONWARNINGS=ignore "$py" bench/wan_side_by_side/wan_side_by_side_diffusers.py)

# --- The random weights, once (the diffusers side loads these folders).
if has_part transformer; then
  echo "# saving a random Wan2.1-1.3B-width transformer ($layers of 30 layers) to $work/transformer"
  rm -rf "$work/transformer"
  "$tr_exe" --skip-tiny --skip-i2v --layers "$layers" --threads "$threads" --save-random "$work/transformer" \
    --save-only >"$work/logs/save-transformer.log" 2>&1 || { cat "$work/logs/save-transformer.log"; exit 1; }
fi
if has_part vae; then
  rm -rf "$work/vae"
  "$vae_exe" --save-random "$work/vae" >"$work/logs/save-vae.log" 2>&1 || { cat "$work/logs/save-vae.log"; exit 1; }
fi
rgb=$work/frames_81x480x832.rgb

# --- Measurements: name | omnihost command | diffusers command (words split on spaces).
names=() o_cmds=() d_cmds=()
add() { names+=("$1"); o_cmds+=("$2"); d_cmds+=("$3"); }
if has_part transformer; then
  for d in fp32 bf16; do
    add "transformer $d" \
      "$tr_exe --skip-tiny --skip-i2v --model $work/transformer --dtype $d --forwards $forwards --threads $threads" \
      "transformer --model $work/transformer --dtype $d --forwards $forwards --threads $threads"
  done
fi
if has_part vae; then
  vae_o="$vae_exe --weights $work/vae --threads $threads --tile 256 --stride 192"
  vae_d="vae --weights $work/vae --threads $threads --tile 256 --stride 192"
  add "vae 256x256x$f" "$vae_o --modes untiled --height 256 --width 256 --frames $f" \
    "$vae_d --mode untiled --height 256 --width 256 --frames $f"
  if [ "$untiled480" = 1 ]; then
    add "vae 480x832x$f untiled" "$vae_o --modes untiled --height 480 --width 832 --frames $f" \
      "$vae_d --mode untiled --height 480 --width 832 --frames $f"
  fi
  add "vae 480x832x$f tiled" "$vae_o --modes tiled --height 480 --width 832 --frames $f" \
    "$vae_d --mode tiled --height 480 --width 832 --frames $f"

fi
if has_part mp4; then
  add "mp4 81x480x832" "$video_exe --mp4-only --mp4 81x480x832 --dump-rgb $rgb" "mp4 --rgb $rgb --mp4 81x480x832"
fi

# time and peak of one log: the transformer's "per forward", the VAE's "decode", the MP4's "in".
time_of() { grep -o -E '(per forward|decode|MB in) [0-9.]+ s' "$1" | tail -n1 | grep -o -E '[0-9.]+ s' | cut -d' ' -f1; }
peak_of() { grep -o -E 'peak RSS [0-9]+ MiB' "$1" | tail -n1 | grep -o -E '[0-9]+'; }
# CPU seconds (user + system) of the measured part; omnihost's VAE bench gives its child's totals.
cpu_of() {
  local c
  c=$(grep -o -E '[0-9.]+ CPU-s' "$1" | tail -n1 | cut -d' ' -f1)
  [ -n "$c" ] || c=$(sed -n 's/.*peak RSS.*(user \([0-9.]*\) s, sys \([0-9.]*\) s).*/\1 \2/p' "$1" | tail -n1 | awk '{ print $1 + $2 }')
  echo "$c"
}
mean_of() { sed -n 's/.*mean |v| = \([0-9.]*\).*/\1/p' "$1" | tail -n1; }
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A times peaks means loads cpus
for ((r = 1; r <= repeats; r++)); do
  for i in "${!names[@]}"; do
    n=${names[$i]}
    # The slow untiled 480p decode gives only a peak: once is enough.
    [[ "$n" == *untiled && "$n" == *480* && $r -gt 1 ]] && continue
    [[ "$n" == vae* && $r -gt $vae_repeats ]] && continue
    order=(omnihost diffusers)
    (( r % 2 == 0 )) && order=(diffusers omnihost)
    for side in "${order[@]}"; do
      log=$work/logs/$(tr ' ' '_' <<<"$n")-$side-$r.log
      loads[$n]+="$(cut -d' ' -f1 /proc/loadavg) "
      echo "# [$r/$repeats] $n: $side (load $(cut -d' ' -f1-3 /proc/loadavg))"
      if [ "$side" = omnihost ]; then
        # shellcheck disable=SC2086  # the command is words split on spaces
        ${o_cmds[$i]} >"$log" 2>&1 || echo "#   omnihost failed: see $log"
      else
        # shellcheck disable=SC2086
        "${driver[@]}" ${d_cmds[$i]} >"$log" 2>&1 || echo "#   diffusers failed: see $log"
      fi
      t=$(time_of "$log" || true) p=$(peak_of "$log" || true) m=$(mean_of "$log" || true) c=$(cpu_of "$log" || true)
      echo "#   ${t:-?} s, ${c:-?} CPU-s, peak RSS ${p:-?} MiB${m:+, mean |v| $m}"
      times[$n,$side]+="$t " peaks[$n,$side]+="$p " cpus[$n,$side]+="$c "
      [ -n "$m" ] && means[$n,$side]=$m
    done
  done
done

echo "#"
echo "# == omnihost / diffusers (medians of $repeats interleaved repeats; < 1: omnihost faster / smaller)"
echo "# load average now: $(cut -d' ' -f1-3 /proc/loadavg); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-(unset)}" \
  "OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-(unset)}; threads $threads; transformer $layers layers, $forwards forwards"
echo "# (wall time is what a user waits for; CPU-s, user + system, is steadier when the machine is shared)"
printf '# %-24s %9s %9s %6s | %8s %8s %6s | %8s %8s %6s | %s\n' measurement omni_s diff_s ratio omni_cpu diff_cpu ratio \
  omni_MiB diff_MiB ratio "all wall times (omnihost; diffusers), load averages at the starts"
for n in "${names[@]}"; do
  ot=$(median <<<"${times[$n,omnihost]}") dt=$(median <<<"${times[$n,diffusers]}")
  oc=$(median <<<"${cpus[$n,omnihost]}") dc=$(median <<<"${cpus[$n,diffusers]}")
  op=$(median <<<"${peaks[$n,omnihost]}") dp=$(median <<<"${peaks[$n,diffusers]}")
  awk -v n="$n" -v ot="$ot" -v dt="$dt" -v oc="$oc" -v dc="$dc" -v op="$op" -v dp="$dp" \
    -v all="${times[$n,omnihost]}; ${times[$n,diffusers]}" -v la="${loads[$n]}" '
    function r(a, b) { return (a != "" && b > 0) ? sprintf("%.2f", a / b) : "?" }
    function v(a) { return a == "" ? "?" : a }
    BEGIN {
      printf "# %-24s %9s %9s %6s | %8s %8s %6s | %8s %8s %6s | %s | load %s\n", n, v(ot), v(dt), r(ot, dt),
        v(oc), v(dc), r(oc, dc), v(op), v(dp), r(op, dp), all, la }'
done
for side in omnihost diffusers; do
  bf=$(median <<<"${peaks[transformer bf16,$side]:-}") fp=$(median <<<"${peaks[transformer fp32,$side]:-}")
  [ -n "$bf" ] && [ -n "$fp" ] && awk -v s="$side" -v bf="$bf" -v fp="$fp" \
    'BEGIN { printf "# %-9s transformer bf16 peak / fp32 peak: %.2f (%d / %d MiB)\n", s, bf / fp, bf, fp }'
  tl=$(median <<<"${peaks[vae 480x832x$f tiled,$side]:-}") ut=$(median <<<"${peaks[vae 480x832x$f untiled,$side]:-}")
  [ -n "$tl" ] && [ -n "$ut" ] && awk -v s="$side" -v tl="$tl" -v ut="$ut" -v f="$f" \
    'BEGIN { printf "# %-9s VAE 480x832x%d tiled peak / untiled peak: %.2f (%d / %d MiB)\n", s, f, tl / ut, tl, ut }'
  btm=$(median <<<"${times[transformer bf16,$side]:-}") ftm=$(median <<<"${times[transformer fp32,$side]:-}")
  [ -n "$btm" ] && [ -n "$ftm" ] && awk -v s="$side" -v b="$btm" -v f="$ftm" \
    'BEGIN { printf "# %-9s transformer bf16 time / fp32 time: %.2f\n", s, b / f }'
done
ob=$(median <<<"${times[transformer bf16,omnihost]:-}") df=$(median <<<"${times[transformer fp32,diffusers]:-}")
[ -n "$ob" ] && [ -n "$df" ] && awk -v b="$ob" -v f="$df" \
  'BEGIN { printf "# omnihost bf16 time / diffusers fp32 time: %.2f\n", b / f }'
for d in fp32 bf16; do
  [ -n "${means[transformer $d,omnihost]:-}" ] &&
    echo "# transformer $d mean |v| (same weights and inputs, should agree): omnihost ${means[transformer $d,omnihost]}" \
      "diffusers ${means[transformer $d,diffusers]:-?}"
done
echo "# logs: $work/logs"
