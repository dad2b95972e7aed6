#!/usr/bin/env bash
# Install what the kernel oracle needs on a fresh Debian 12 machine. Run as root.
#   - qemu-system-arm (qemu-system-aarch64), the aarch64 cross compiler and static libc,
#   - linux-source-6.12 (the tarball in /usr/src) and what building it needs,
#   - busybox-static:arm64, unpacked (not installed) into the oracle cache: the guest's shell.
# Idempotent: a second run only re-checks.
set -euo pipefail

cache=${VFIOKIT_ORACLE_CACHE:-$HOME/.cache/vfiokit-oracle}
export DEBIAN_FRONTEND=noninteractive

[ "$(id -u)" = 0 ] || { echo "install-deps: run as root" >&2; exit 1; }

pkgs=(qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross linux-source-6.12
  make gcc libc6-dev flex bison bc libssl-dev libelf-dev cpio rsync xz-utils gzip)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
arm64=yes
dpkg --print-foreign-architectures | grep -qx arm64 || arm64=no

if [ "${#missing[@]}" -gt 0 ] || [ "$arm64" = no ]; then
  [ "$arm64" = yes ] || dpkg --add-architecture arm64
  apt-get update -qq
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# busybox-static:arm64 is extracted, not installed: it would clash with the host's busybox.
bb="$cache/busybox-arm64/bin/busybox"
if [ ! -x "$bb" ]; then
  mkdir -p "$cache/busybox-arm64"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download busybox-static:arm64 >/dev/null 2>&1) || {
    apt-get update -qq
    (cd "$tmp" && apt-get download busybox-static:arm64 >/dev/null)
  }
  dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$cache/busybox-arm64"
  rm -rf "$tmp"
fi
echo "install-deps: ok ($bb)"
