#!/usr/bin/env bash
# Build (or reuse) the oracle kernel: Linux 6.12 from Debian's linux-source-6.12, arm64,
# allnoconfig + kernel.fragment, modules off.
#
# Output directory (printed on stdout as the last line):
#   ${VFIOKIT_ORACLE_CACHE:-$HOME/.cache/vfiokit-oracle}/<source version>-<hash>/
#     Image        the kernel
#     config       its .config
#     include/     `make headers` output (the 6.12 UAPI the runner is compiled against)
#     build-seconds
# <hash> covers kernel.fragment and this script, so only a change to either rebuilds. The
# unpacked source and the object tree are kept under the cache (src-<version>/,
# obj-<version>/) so a changed fragment rebuilds incrementally.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tarball=${VFIOKIT_LINUX_SOURCE:-/usr/src/linux-source-6.12.tar.xz}
cache=${VFIOKIT_ORACLE_CACHE:-$HOME/.cache/vfiokit-oracle}
jobs=${VFIOKIT_ORACLE_JOBS:-2}
fragment="$here/kernel.fragment"

log() { echo "build-kernel: $*" >&2; }
die() { echo "build-kernel: ERROR: $*" >&2; exit 1; }

[ -f "$tarball" ] || die "$tarball missing (run oracle/install-deps.sh as root)"
command -v aarch64-linux-gnu-gcc >/dev/null || die "aarch64-linux-gnu-gcc missing (oracle/install-deps.sh)"

# Source version: the Debian package version when dpkg knows it, else the tarball's hash.
version=$(dpkg-query -W -f '${Version}' linux-source-6.12 2>/dev/null || true)
[ -n "$version" ] || version=$(sha256sum "$tarball" | cut -c1-12)
version=${version//[^A-Za-z0-9.+_-]/_}
hash=$(cat "$fragment" "$here/build-kernel.sh" | sha256sum | cut -c1-12)
out="$cache/$version-$hash"

if [ -f "$out/Image" ] && [ -f "$out/include/linux/vfio.h" ]; then
  log "reusing $out"
  echo "$out"
  exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
# Another build may have finished while we waited for the lock.
if [ -f "$out/Image" ] && [ -f "$out/include/linux/vfio.h" ]; then
  log "reusing $out"
  echo "$out"
  exit 0
fi

start=$(date +%s)
src="$cache/src-$version"
obj="$cache/obj-$version"
if [ ! -f "$src/.unpacked" ]; then
  log "unpacking $tarball into $src"
  rm -rf "$src" && mkdir -p "$src"
  tar -xJf "$tarball" -C "$src" --strip-components=1
  touch "$src/.unpacked"
fi
mkdir -p "$obj"

mk() { make -C "$src" O="$obj" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- "$@"; }

log "configuring: allnoconfig + $(basename "$fragment")"
mk -s KCONFIG_ALLCONFIG="$fragment" allnoconfig >&2

# Every option the fragment asks for must have survived Kconfig's dependency resolution.
missing=()
while IFS= read -r line; do
  case "$line" in CONFIG_*=y) ;; *) continue ;; esac
  grep -qx "$line" "$obj/.config" || missing+=("$line")
done <"$fragment"
[ "$(grep -c '^CONFIG_MODULES=y' "$obj/.config")" = 0 ] || missing+=("CONFIG_MODULES must be off")
if [ "${#missing[@]}" -gt 0 ]; then
  die "options not =y after allnoconfig: ${missing[*]}"
fi
log "all $(grep -c '^CONFIG_.*=y' "$fragment") fragment options are =y"

log "make -j$jobs Image (10-20 min cold on two cores)"
mk -j"$jobs" Image >&2
log "make headers"
mk -s headers >&2

tmp="$out.tmp.$$"
rm -rf "$tmp" && mkdir -p "$tmp"
cp "$obj/arch/arm64/boot/Image" "$tmp/Image"
cp "$obj/.config" "$tmp/config"
cp -r "$obj/usr/include" "$tmp/include"
echo $(($(date +%s) - start)) >"$tmp/build-seconds"
rm -rf "$out"
mv "$tmp" "$out"
log "built $out in $(cat "$out/build-seconds") s"
echo "$out"
