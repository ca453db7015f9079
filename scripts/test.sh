#!/usr/bin/env bash
# Builds tapegrad and runs every test: the doctest suites, a consumer program
# built against an installed copy through pkg-config, the examples' smoke runs,
# and the portability checks under emulated older CPUs. Ends with the line
# "N passed, N failed".
#   scripts/test.sh               (build dir: build/, or $BUILD_DIR)
#   scripts/test.sh --fresh       (wipes the build dirs first)
#   scripts/test.sh --hardening   (also: the suite under ASan + UBSan, each fuzz target for
#                                  $FUZZ_SECONDS s, default 20, with libFuzzer seed
#                                  $FUZZ_SEED, default 1; on by default when CI=true)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
hardening=false
[ "${CI:-}" = "true" ] && hardening=true
for arg in "$@"; do
  case "$arg" in
    --fresh) rm -rf "$build" "$build-asan" "$build-fuzz" ;;
    --hardening) hardening=true ;;
    --no-hardening) hardening=false ;;
    *) echo "test: unknown option '$arg' (--fresh, --hardening, --no-hardening)"; exit 2 ;;
  esac
done

scripts/install-deps.sh || { echo "test: installing dependencies failed"; echo "0 passed, 1 failed"; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" >/dev/null || { echo "test: meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
fi
ninja -C "$build" >"$build/ninja.log" 2>&1 || { tail -40 "$build/ninja.log"; echo "test: build failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0
pass() { passed=$((passed + $1)); }
fail() { failed=$((failed + $1)); echo "FAILED: $2"; }

# 1. The doctest suites: count test cases.
log="$build/tests.log"
"$build/tests/tapegrad_tests" --no-version 2>&1 | tee "$log" | grep -E '^\[doctest\] (test cases|assertions)|ERROR|FAILED' | head -50
summary=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1)
if [ -n "$summary" ]; then
  pass "$(echo "$summary" | sed -E 's/.*\| *([0-9]+) passed.*/\1/')"
  f=$(echo "$summary" | sed -E 's/.*\| *([0-9]+) failed.*/\1/')
  [ "$f" -gt 0 ] && fail "$f" "doctest suites ($f test cases)"
else
  fail 1 "the doctest runner crashed (see $log)"
fi

# 2. An out-of-tree consumer against an installed copy, through pkg-config.
dest=$(mktemp -d)
if meson install -C "$build" --destdir "$dest" >/dev/null 2>&1; then
  prefix="$dest$(meson introspect "$build" --buildoptions | python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')"
  pcdir=$(dirname "$(find "$dest" -name tapegrad.pc | head -1)")
  flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$prefix" --cflags --libs tapegrad)
  libdir=$(PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$prefix" --variable=libdir tapegrad)
  if g++ -std=c++20 tests/consumer/consumer.cpp $flags -o "$dest/consumer" 2>"$dest/err" &&
     LD_LIBRARY_PATH="$libdir" "$dest/consumer" >/dev/null; then
    pass 1
  else
    cat "$dest/err"; fail 1 "installed-library consumer"
  fi
else
  fail 1 "meson install"
fi
rm -rf "$dest"

# 3. Example smoke runs (a few steps each on small generated data).
for smoke in tests/smoke/*.sh; do
  [ -e "$smoke" ] || continue
  if BUILD_DIR="$build" bash "$smoke" >"$build/$(basename "$smoke").log" 2>&1; then
    pass 1
  else
    tail -20 "$build/$(basename "$smoke").log"; fail 1 "$smoke"
  fi
done

# 4. Portability (scripts/portability.sh): the example and the dispatched kernels' suites
# under emulated older CPUs (qemu-user: AVX2-only Haswell, Nehalem without AVX), where an
# instruction the CPU lacks is a SIGILL, and natively at each lower TAPEGRAD_CPU_CAPABILITY.
BUILD_DIR="$build" scripts/portability.sh >"$build/portability.log" 2>&1
grep -E '^portability' "$build/portability.log"
checks=$(grep -cE '^portability: .*: (ok|FAILED)' "$build/portability.log")
broken=$(grep -cE '^portability: .*: FAILED' "$build/portability.log")
if [ "$checks" -eq 0 ]; then
  tail -20 "$build/portability.log"; fail 1 "scripts/portability.sh ran no check"
else
  pass $((checks - broken))
  [ "$broken" -gt 0 ] && fail "$broken" "portability checks (see $build/portability.log)"
fi

# 5. Hardening: the whole doctest suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (an -O0 build: as fast to build as the release one), then each libFuzzer target briefly.
if [ "$hardening" = true ]; then
  SANITIZE_BUILDTYPE=debug ASAN_BUILD_DIR="$build-asan" scripts/sanitize.sh >"$build/sanitize.log" 2>&1
  if grep -q '^sanitize: passed' "$build/sanitize.log"; then
    tail -1 "$build/sanitize.log"; pass 1
  else
    tail -30 "$build/sanitize.log"; fail 1 "the suite under ASan + UBSan (scripts/sanitize.sh)"
  fi
  # A fixed seed: the same inputs on every run, so a submission is not failed by the luck of
  # the draw; long random runs (scripts/fuzz.sh 150) are for finding new bugs.
  FUZZ_BUILD_DIR="$build-fuzz" FUZZ_SEED="${FUZZ_SEED:-1}" scripts/fuzz.sh "${FUZZ_SECONDS:-20}" \
    >"$build/fuzz.log" 2>&1
  grep -E '^fuzz' "$build/fuzz.log"
  targets=$(grep -cE '^fuzz_[a-z0-9_]+: ' "$build/fuzz.log")
  clean=$(grep -cE '^fuzz_[a-z0-9_]+: .* 0 findings ' "$build/fuzz.log")
  if [ "$targets" -eq 0 ]; then
    tail -20 "$build/fuzz.log"; fail 1 "scripts/fuzz.sh ran no target"
  else
    pass "$clean"
    [ "$clean" -lt "$targets" ] && fail $((targets - clean)) "fuzz targets with findings (see $build/fuzz.log)"
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
