#!/usr/bin/env bash
# Prepares podman for the proxy tests on this kind of machine (env-notes §2f): crun cannot run here
# (no CAP_SYS_RESOURCE, hybrid cgroups), so a containers.conf selects runc with explicit ulimits, and
# a local image is built without any registry: busybox-static + the stand-in binary + the shared
# libraries it needs (found with ldd) + a `vllm` shim, imported with `podman import`.
#
#   setup_podman.sh <standin-binary> <work-dir>
# Prints two lines on success:  CONTAINERS_CONF=<path>   IMAGE=<name:tag>
# The image tag is the stand-in's md5, so an unchanged binary is not re-imported.
set -euo pipefail
standin=${1:?usage: setup_podman.sh <standin-binary> <work-dir>}
work=${2:?usage: setup_podman.sh <standin-binary> <work-dir>}

fail() { echo "setup_podman: $*" >&2; exit 1; }
command -v podman >/dev/null || fail "podman is not installed (scripts/bootstrap.sh test installs it)"
command -v runc >/dev/null || fail "runc is not installed (podman here needs runc; crun fails)"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || busybox=/bin/busybox
[ -x "$busybox" ] || fail "busybox-static is not installed"
[ -x "$standin" ] || fail "stand-in binary not found: $standin"

mkdir -p "$work"
conf="$work/containers.conf"
cat > "$conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$conf"

tag=$(md5sum "$standin" | cut -c1-12)
image="localhost/omnihost-standin:$tag"
if ! podman image exists "$image"; then
  root="$work/rootfs.$$"
  rm -rf "$root"
  mkdir -p "$root/bin" "$root/usr/local/bin" "$root/tmp" "$root/root/.cache/huggingface" "$root/proc" "$root/sys" "$root/dev" "$root/etc"
  cp "$busybox" "$root/bin/busybox"
  for applet in sh ls cat sleep echo ps kill; do ln -s busybox "$root/bin/$applet"; done
  cp "$standin" "$root/usr/local/bin/omnihost-upstream-standin"
  printf '#!/bin/sh\n# vllm shim of the test image: the stand-in takes vllm'"'"'s arguments\nexec /usr/local/bin/omnihost-upstream-standin "$@"\n' > "$root/usr/local/bin/vllm"
  chmod 755 "$root/usr/local/bin/vllm"
  # Every shared library the stand-in needs, at the same path, plus the dynamic loader.
  ldd "$standin" | awk '/=> \//{print $3} /^\s*\/.*ld-linux/{print $1}' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  loader=$(readelf -l "$standin" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
  mkdir -p "$root$(dirname "$loader")"
  cp -L "$loader" "$root$loader"
  echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
  tar -C "$root" -c . | podman import --change 'ENV PATH=/usr/local/bin:/bin' - "$image" >"$work/import.log" 2>&1 \
    || fail "podman import failed: $(cat "$work/import.log")"
  rm -rf "$root"
fi
# Check that the image really runs here (runc + ulimits) before the tests rely on it.
out=$(podman run --rm "$image" /bin/sh -c 'echo container-ok' 2>&1) || fail "cannot run a container: $out"
[ "$out" = "container-ok" ] || fail "unexpected container output: $out"
echo "CONTAINERS_CONF=$conf"
echo "IMAGE=$image"
