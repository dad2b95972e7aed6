#!/usr/bin/env bash
# The kernel oracle (`npm run oracle`): run every scenario of oracle/scenarios/ on a real
# Linux 6.12 under QEMU and compare what the kernel prints with the recorded transcript.
#
#   oracle/oracle.sh                   check every scenario; fail with a diff on any change
#   oracle/oracle.sh --record          rewrite oracle/transcripts/*.txt and oracle/dtb/*.dtb
#   oracle/oracle.sh NAME...           only these scenarios (with or without --record)
#
# It builds (or reuses) the kernel with build-kernel.sh, compiles runner/runner.c statically
# against that kernel's UAPI headers, packs an initramfs (busybox-static:arm64, the runner,
# guest/init, every scenario), boots one guest per scenario, and also dumps each machine's
# device tree (the model's host is built from oracle/dtb/) and checks it against the
# committed blob. Work files live in ${VFIOKIT_ORACLE_CACHE:-$HOME/.cache/vfiokit-oracle}/run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${VFIOKIT_ORACLE_CACHE:-$HOME/.cache/vfiokit-oracle}
work="$cache/run"
boot_timeout=${VFIOKIT_ORACLE_BOOT_TIMEOUT:-180}
default_machine="virt,gic-version=3"
# Fixed QEMU options; the scenario adds its machine options. dtb-randomness=off drops
# /chosen's rng-seed and kaslr-seed, so the dumped device tree is the same on every run.
qemu_fixed=(-cpu cortex-a57 -m 512 -smp 1 -nographic -nic none -no-reboot)

record=0
only=()
for arg in "$@"; do
  case "$arg" in
    --record) record=1 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "oracle: unknown option $arg" >&2; exit 2 ;;
    *) only+=("${arg%.scn}") ;;
  esac
done

log() { echo "oracle: $*" >&2; }
die() { echo "oracle: ERROR: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t_all=$(now)
command -v qemu-system-aarch64 >/dev/null || die "qemu-system-aarch64 missing (sudo oracle/install-deps.sh)"

# 1. Kernel.
t=$(now)
kout=$("$here/build-kernel.sh")
t_kernel=$(since "$t")
log "kernel: $kout ($t_kernel s; cold build took $(cat "$kout/build-seconds") s)"

# 2. busybox-static:arm64 (install-deps.sh extracts it; `apt-get download` needs no root).
bb="$cache/busybox-arm64/bin/busybox"
if [ ! -x "$bb" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download busybox-static:arm64 >/dev/null) ||
    die "cannot fetch busybox-static:arm64 (sudo oracle/install-deps.sh)"
  mkdir -p "$cache/busybox-arm64"
  dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$cache/busybox-arm64"
  rm -rf "$tmp"
fi

# 3. Runner (its formatting checked on the host first) and initramfs.
t=$(now)
"$here/runner/selftest.sh" "$kout/include" >&2
mkdir -p "$work"
rm -rf "$work/root" "$work/console" "$work/out" "$work/dtb"
mkdir -p "$work/root/bin" "$work/root/proc" "$work/root/sys" "$work/root/dev" \
  "$work/root/tmp" "$work/root/scenarios" "$work/console" "$work/out" "$work/dtb"
aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -Werror -I"$kout/include" \
  -o "$work/root/bin/runner" "$here/runner/runner.c"
cp "$bb" "$work/root/bin/busybox"
for applet in sh mount cat echo sed poweroff dmesg mkdir ls sleep; do
  ln -s busybox "$work/root/bin/$applet"
done
cp "$here/guest/init" "$work/root/init"
cp "$here"/scenarios/*.scn "$work/root/scenarios/"
(cd "$work/root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) \
  >"$work/initramfs.cpio.gz"
t_initramfs=$(since "$t")
log "runner + initramfs: $t_initramfs s"

# 4. Scenarios.
scenarios=()
if [ "${#only[@]}" -gt 0 ]; then
  for n in "${only[@]}"; do
    [ -f "$here/scenarios/$n.scn" ] || die "no scenario $n (oracle/scenarios/$n.scn)"
    scenarios+=("$n")
  done
else
  for f in "$here"/scenarios/*.scn; do scenarios+=("$(basename "$f" .scn)"); done
fi
mkdir -p "$here/transcripts" "$here/dtb"

header() { # header FILE DIRECTIVE -> the directive's value (first occurrence), or nothing
  awk -v d="$2" '$1 == d { $1 = ""; sub(/^ +/, ""); print; exit }' "$1"
}

# Refuse a malformed scenario before booting anything (the host build of the same runner).
gcc -O2 -w -I"$kout/include" -o "$work/runner-host" "$here/runner/runner.c"
for name in "${scenarios[@]}"; do
  "$work/runner-host" --check "$here/scenarios/$name.scn" || die "$name.scn is not a valid scenario"
done

failed=()
declare -A dtb_done=()
t_boots=$(now)
for name in "${scenarios[@]}"; do
  scn="$here/scenarios/$name.scn"
  machine=$(header "$scn" machine)
  machine=${machine:-$default_machine}
  cmdline=$(header "$scn" cmdline)
  case "$machine$cmdline" in *'"'* | *"'"*) die "$name: machine/cmdline cannot contain quotes" ;; esac
  [[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || die "$name: scenario names use [A-Za-z0-9_.-]"

  # The machine's device tree, as QEMU gives it to the guest.
  dtb_name="${machine//[,=]/_}.dtb"
  if [ -z "${dtb_done[$dtb_name]:-}" ]; then
    dtb_done[$dtb_name]=1
    qemu-system-aarch64 -M "$machine,dtb-randomness=off,dumpdtb=$work/dtb/$dtb_name" \
      "${qemu_fixed[@]}" 2>/dev/null
    if [ "$record" = 1 ]; then
      cp "$work/dtb/$dtb_name" "$here/dtb/$dtb_name"
    elif [ ! -f "$here/dtb/$dtb_name" ]; then
      log "FAIL dtb/$dtb_name missing for -M $machine (run oracle/oracle.sh --record $name)"
      failed+=("dtb/$dtb_name")
    elif ! cmp -s "$work/dtb/$dtb_name" "$here/dtb/$dtb_name"; then
      log "FAIL dtb/$dtb_name differs from what QEMU dumps for -M $machine (re-record)"
      failed+=("dtb/$dtb_name")
    fi
  fi

  t=$(now)
  console="$work/console/$name.log"
  rc=0
  timeout "$boot_timeout" qemu-system-aarch64 -M "$machine,dtb-randomness=off" "${qemu_fixed[@]}" \
    -kernel "$kout/Image" -initrd "$work/initramfs.cpio.gz" \
    -append "console=ttyAMA0 quiet panic=-1 $cmdline vfiokit_scenario=$name" \
    </dev/null >"$console" 2>&1 || rc=$?
  boot_s=$(since "$t")
  out="$work/out/$name.txt"
  tr -d '\r' <"$console" |
    awk '/^===VFIOKIT-TRANSCRIPT-END/ { on = 0 } on && /^\|/ { print substr($0, 2) } /^===VFIOKIT-TRANSCRIPT-BEGIN/ { on = 1 }' \
      >"$out"
  end=$(tr -d '\r' <"$console" | grep -a '^===VFIOKIT-TRANSCRIPT-END' || true)
  if [ "$rc" != 0 ] || [ "$end" != "===VFIOKIT-TRANSCRIPT-END rc=0===" ]; then
    log "FAIL $name: the guest did not run the scenario to its end (qemu exit $rc, ${end:-no end marker}); console:"
    tr -d '\r' <"$console" | tail -n 60 >&2
    failed+=("$name")
    continue
  fi
  want="$here/transcripts/$name.txt"
  if [ "$record" = 1 ]; then
    cp "$out" "$want"
    log "recorded $name ($boot_s s)"
  elif [ ! -f "$want" ]; then
    log "FAIL $name: no recorded transcript (run oracle/oracle.sh --record $name)"
    failed+=("$name")
  elif ! diff -u --label "recorded transcripts/$name.txt" --label "kernel now" "$want" "$out" >&2; then
    log "FAIL $name: the kernel no longer prints the recorded transcript"
    failed+=("$name")
  else
    log "ok $name ($boot_s s)"
  fi
done
t_boots=$(since "$t_boots")

# A transcript without its scenario is stale: nothing would ever check it again.
if [ "${#only[@]}" = 0 ]; then
  for f in "$here"/transcripts/*.txt; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .txt)
    [ -f "$here/scenarios/$n.scn" ] || { log "FAIL transcripts/$n.txt has no scenario"; failed+=("$n"); }
  done
fi

log "timings: kernel ${t_kernel} s, runner+initramfs ${t_initramfs} s, ${#scenarios[@]} boots ${t_boots} s, total $(since "$t_all") s"
if [ "${#failed[@]}" -gt 0 ]; then
  die "${#failed[@]} failed: ${failed[*]}"
fi
if [ "$record" = 1 ]; then
  log "recorded ${#scenarios[@]} transcripts; commit oracle/transcripts and oracle/dtb"
else
  log "all ${#scenarios[@]} scenarios agree with their recorded transcripts"
fi
