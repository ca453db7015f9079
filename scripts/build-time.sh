#!/usr/bin/env bash
# Measures a fresh build's CPU time: user + sys seconds of `meson setup` and `ninja`
# (every compiler process included), with ccache off, on a clean copy of the sources.
#   scripts/build-time.sh              the working tree as it is
#   scripts/build-time.sh 81d9693      a commit (e.g. the one before the build-speed work)
#   scripts/build-time.sh HEAD -Dbench=enabled     extra arguments go to `meson setup`
# Prints "build-time: <rev>: setup U+S s, ninja U+S s, total T s (wall W s)" and, with
# BUILD_TIME_TOP=N, the N slowest compile steps from .ninja_log.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-}
[ $# -gt 0 ] && shift
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
if [ -n "$rev" ]; then
  git archive "$rev" | tar -x -C "$src"
else
  rev=worktree
  git ls-files -z --cached --others --exclude-standard | xargs -0 cp -P --parents -t "$src"
fi
export CCACHE_DISABLE=1
# cpu NAME CMD...: runs CMD, leaves "user+sys wall" seconds in $src/NAME.time.
cpu() {
  local name=$1
  shift
  /usr/bin/time -f '%U %S %e' -o "$src/$name.time" "$@" >"$src/$name.log" 2>&1 ||
    { tail -30 "$src/$name.log"; echo "build-time: '$*' failed" >&2; exit 1; }
}
cpu setup meson setup "$src/build" "$src" "$@"
cpu ninja ninja -C "$src/build"
cat "$src/setup.time" "$src/ninja.time" | awk -v rev="$rev" '
  { cpu[NR] = $1 + $2; wall += $3 }
  END { printf "build-time: %s: setup %.1f s, ninja %.1f s, total %.1f s CPU (wall %.1f s)\n",
               rev, cpu[1], cpu[2], cpu[1] + cpu[2], wall }'
if [ -n "${BUILD_TIME_TOP:-}" ]; then
  # .ninja_log: start_ms end_ms mtime output hash; wall time per step (2 cores, so close to CPU).
  awk 'NR > 1 {printf "%7.1f s  %s\n", ($2 - $1) / 1000, $4}' "$src/build/.ninja_log" |
    sort -rn | head -"$BUILD_TIME_TOP"
fi
