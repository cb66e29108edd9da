#!/usr/bin/env bash
# Installs the Debian packages omnihost needs, only those missing. Idempotent and fast when all
# are present (one dpkg-query, no apt-get update).
#   scripts/bootstrap.sh build   - what `make run` needs (compilers, libraries)
#   scripts/bootstrap.sh test    - plus what the tests need (Chromium, podman + runc, busybox, node,
#                                  clang + libFuzzer for `make fuzz`)
set -euo pipefail
profile=${1:-build}

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  libpoco-dev libboost-dev libspdlog-dev libfmt-dev doctest-dev nlohmann-json3-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libtorch-dev libsentencepiece-dev
  # job records: Poco::Data's SQLite and PostgreSQL connectors (in libpoco-dev) link these
  libsqlite3-dev libpq-dev
  # libtorch's BLAS is whatever libblas.so.3 points to; without OpenBLAS matmul is ~25x slower.
  libopenblas0-pthread
)
test_pkgs=(
  ffmpeg chromium nodejs npm
  podman runc uidmap slirp4netns fuse-overlayfs iptables busybox-static
  procps psmisc curl
  # a real PostgreSQL server the job tests start on loopback (two hosts sharing one queue)
  postgresql
  # the docker CLI, for the container proxy's docker fallback (driven against podman's API socket)
  docker.io
  # clang and its compiler-rt (libFuzzer, ASan/UBSan runtimes) for the fuzz targets (scripts/fuzz.sh)
  clang-14 libclang-rt-14-dev
  # python3 -m venv, for the pip-torch build (make TORCH=pip, scripts/setup_torch_venv.sh)
  python3-venv
)

pkgs=("${build_pkgs[@]}")
if [ "$profile" = "test" ]; then pkgs+=("${test_pkgs[@]}"); fi

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
# node/npm may come from elsewhere (e.g. a preinstalled nodejs build); accept any working node.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  tmp=(); for p in "${missing[@]}"; do [ "$p" = nodejs ] || [ "$p" = npm ] || tmp+=("$p"); done
  missing=("${tmp[@]}")
fi
# Any docker CLI will do (the tests talk to podman's socket, no docker engine is needed).
if command -v docker >/dev/null 2>&1; then
  tmp=(); for p in "${missing[@]}"; do [ "$p" = docker.io ] || tmp+=("$p"); done
  missing=("${tmp[@]}")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
