#!/usr/bin/env bash
# Check the runner's formatting on the build host: compile runner.c with the host's gcc
# (against the kernel's UAPI headers when given, else /usr/include), run selftest.scn on
# scratch files and compare with selftest.expected. `--record` rewrites the expectation.
#   runner/selftest.sh [--record] [UAPI_INCLUDE_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
record=0
[ "${1:-}" = --record ] && { record=1; shift; }
inc=()
[ -n "${1:-}" ] && inc=(-I"$1")
dir=/tmp/vfiokit-runner-selftest
rm -rf "$dir" && mkdir -p "$dir/d"
: >"$dir/f" && : >"$dir/g" && : >"$dir/empty"
ln -s "target of l" "$dir/l"
touch "$dir/B" "$dir/a" "$dir/_"
gcc -O2 -Wall -Wextra -Werror "${inc[@]}" -o "$dir/runner" "$here/runner.c"
# Scenario errors: exit status 2, nothing on stdout.
for bad in 'frobnicate x' 'close NOPE' 'write "unterminated' 'pread F 0' 'bg J open F /x' 'title late'; do
  printf 'read /x\n%s\n' "$bad" >"$dir/bad.scn"
  rc=0
  out=$("$dir/runner" "$dir/bad.scn" 2>/dev/null) || rc=$?
  if [ "$rc" != 2 ] || [ -n "$out" ]; then
    echo "selftest: '$bad' should be a scenario error (exit 2, no transcript); got exit $rc" >&2
    exit 1
  fi
done
rm -f "$dir/bad.scn"
"$dir/runner" "$here/selftest.scn" >"$dir/out.txt"
if [ "$record" = 1 ]; then
  cp "$dir/out.txt" "$here/selftest.expected"
  echo "selftest: recorded"
elif ! diff -u "$here/selftest.expected" "$dir/out.txt"; then
  echo "selftest: the runner's output changed" >&2
  exit 1
fi
rm -rf "$dir"
echo "selftest: ok"
