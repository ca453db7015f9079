#!/usr/bin/env bash
# The default build must run on any x86-64 CPU (issue 12): the library is compiled for plain
# x86-64 and picks its AVX2 or AVX-512 loops at run time (core/cpu.h). This runs the built
# airfoil example (tests/smoke/airfoil.sh's small generated table) and the doctest suites of
# the dispatched kernels under QEMU's user-mode emulation of older CPUs, checking the level
# each one must get; an instruction the CPU lacks kills the program with SIGILL and fails.
# Natively it checks TAPEGRAD_CPU_CAPABILITY: a lower level is obeyed, a bad one warned about.
#   scripts/portability.sh                 Haswell (avx2), Nehalem (baseline), then native
#   scripts/portability.sh Haswell:avx2    one emulated CPU model and the level it must get
#   scripts/portability.sh native          only the native checks
# Prints one line per check, "portability: <what>: ok" or "portability: <what>: FAILED ...";
# exits 1 if any failed. Needs qemu-user (scripts/install-deps.sh) and a built $BUILD_DIR.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
tests="$build/tests/tapegrad_tests"
# The suites that compare every level with the baseline, plus ordinary suites of the ops
# whose loops are dispatched (about a minute per CPU model under emulation).
suites='cpu:*,nn conv2d*,nn pool*,nn max_pool2d*,nn BatchNorm*,nn GroupNorm*,nn normalisation*'
checks=("$@")
[ ${#checks[@]} -eq 0 ] && checks=(Haswell:avx2 Nehalem:baseline native)
failures=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

ok() { echo "portability: $1: ok"; }
failed() {
  local why="$2"
  grep -q 'Illegal instruction' "$log" && why="SIGILL: an instruction this CPU lacks; $why"
  echo "portability: $1: FAILED ($why)"
  tail -15 "$log" | sed 's/^/  /'
  failures=$((failures + 1))
}

# The level this machine must get, read from /proc/cpuinfo's flags (not from the library).
native_level() {
  local flags
  flags=" $(grep -m1 '^flags' /proc/cpuinfo) "
  has() { for f in "$@"; do [[ "$flags" == *" $f "* ]] || return 1; done; }
  if has avx2 fma bmi1 bmi2 popcnt avx512f avx512vl avx512bw avx512dq avx512cd; then
    echo avx512
  elif has avx2 fma bmi1 bmi2 popcnt; then
    echo avx2
  else
    echo baseline
  fi
}

run_suites() {  # run_suites EXPECTED_LEVEL [COMMAND PREFIX...]
  local level="$1"
  shift
  TG_TEST_EXPECT_CAPABILITY="$level" "$@" "$tests" --no-version -tc="$suites" >"$log" 2>&1 &&
    grep -qE '^\[doctest\] test cases: +[0-9]+ \| +[1-9][0-9]* passed \| 0 failed' "$log"
}

for check in "${checks[@]}"; do
  if [ "$check" = native ]; then
    level=$(native_level)
    if run_suites "$level"; then ok "native ($level)"; else failed "native ($level)" "suites"; fi
    case "$level" in
      avx512) lower_levels="baseline avx2" ;;
      avx2) lower_levels=baseline ;;
      *) lower_levels="" ;;
    esac
    for lower in $lower_levels; do  # each level below the native one, by the variable
      if TAPEGRAD_CPU_CAPABILITY=$lower run_suites "$lower"; then
        ok "TAPEGRAD_CPU_CAPABILITY=$lower"
      else
        failed "TAPEGRAD_CPU_CAPABILITY=$lower" "suites"
      fi
    done
    # A bad value: one warning, and the detected level is used.
    if TAPEGRAD_CPU_CAPABILITY=avx9 run_suites "$level" &&
       grep -q "TAPEGRAD_CPU_CAPABILITY: parse_capability: unknown level 'avx9'" "$log"; then
      ok "TAPEGRAD_CPU_CAPABILITY=avx9 warns and uses $level"
    else
      failed "TAPEGRAD_CPU_CAPABILITY=avx9" "no warning, or not $level"
    fi
    continue
  fi
  model=${check%%:*} level=${check#*:}
  if ! command -v qemu-x86_64 >/dev/null; then
    failed "$model" "qemu-x86_64 not found (qemu-user)"
    continue
  fi
  if ! RUN="qemu-x86_64 -cpu $model" BUILD_DIR="$build" bash tests/smoke/airfoil.sh \
      >"$log" 2>&1; then
    failed "$model: airfoil example" "tests/smoke/airfoil.sh"
  else
    ok "$model: airfoil example"
  fi
  if run_suites "$level" qemu-x86_64 -cpu "$model"; then
    ok "$model: suites at $level"
  else
    failed "$model: suites at $level" "doctest -tc='$suites'"
  fi
done
exit $((failures > 0))
