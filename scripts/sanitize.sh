#!/usr/bin/env bash
# Builds the doctest suites with AddressSanitizer + UndefinedBehaviorSanitizer (Meson's
# builtin b_sanitize option, g++) in build-asan/ and runs them. Any sanitizer report stops
# the run (UBSan halt_on_error) and fails it; leaks are reported at exit (LeakSanitizer).
#   scripts/sanitize.sh                   all suites
#   scripts/sanitize.sh -tse='*slow*'     extra doctest arguments, e.g. to skip suites
#   ASAN_BUILD_DIR=... scripts/sanitize.sh   another build directory (default build-asan/)
#   SANITIZE_BUILDTYPE=debug scripts/sanitize.sh   -O0: builds 4x faster (about as fast as
#                                           the normal build), runs slower; what CI uses
# The same build by hand:
#   meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
#     -Dbuildtype=debugoptimized && ninja -C build-asan tests/tapegrad_tests
# Ends with one line: "sanitize: passed (...)" or "sanitize: FAILED (...)".
set -uo pipefail
cd "$(dirname "$0")/.."
build=${ASAN_BUILD_DIR:-build-asan}
buildtype=${SANITIZE_BUILDTYPE:-debugoptimized}
start=$(date +%s)
failed() {
  echo "sanitize: FAILED ($1; $(( $(date +%s) - start )) s)"
  exit 1
}

if [ ! -f "$build/build.ninja" ]; then
  setup=$(meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbuildtype="$buildtype" 2>&1) || { echo "$setup"; failed "meson setup"; }
else  # an existing build directory: make sure it has the asked-for build type
  setup=$(meson configure "$build" -Dbuildtype="$buildtype" 2>&1) ||
    { echo "$setup"; failed "meson configure"; }
fi
if ! ninja -C "$build" tests/tapegrad_tests >"$build/ninja.log" 2>&1; then
  tail -40 "$build/ninja.log"
  failed "build"
fi
built=$(date +%s)

# detect_leaks: a tape that outlives its loss shows here. halt_on_error + print_stacktrace:
# the first undefined behaviour fails the run with a stack. OpenBLAS and libgomp are not
# instrumented: an error inside them goes unseen, ours around them does not.
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
log="$build/tests.log"
"$build/tests/tapegrad_tests" --no-version "$@" >"$log" 2>&1
status=$?
grep -E '^\[doctest\] (test cases|assertions)|ERROR|SUMMARY|runtime error' "$log" | head -20
summary=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1 | sed -E 's/^\[doctest\] test cases: *//')
times="$buildtype build $((built - start)) s, tests $(( $(date +%s) - built )) s"
if [ "$status" -ne 0 ] || grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error' "$log"; then
  failed "exit $status${summary:+; $summary}; see $log; $times"
fi
echo "sanitize: passed ($summary; $times)"
