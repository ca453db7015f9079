#!/usr/bin/env bash
# Builds tapegrad and runs every test: the doctest suites; against an installed copy, a
# consumer program through pkg-config and through CMake, the umbrella header's reach and
# README.md's C++ snippets; tapegrad as a Meson subproject; the examples' smoke runs; the
# portability checks under emulated older CPUs. Ends with the line "N passed, N failed".
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
# tally LOG ALL GOOD NONE BAD: each line of LOG matching ALL is one check, passed when it also
# matches GOOD; no such line at all fails once with NONE, the failed ones count under BAD.
tally() {
  local log=$1 total good
  total=$(grep -cE "$2" "$log")
  good=$(grep -cE "$3" "$log")
  if [ "$total" -eq 0 ]; then
    tail -20 "$log"; fail 1 "$4"
  else
    pass "$good"
    [ "$good" -lt "$total" ] && fail $((total - good)) "$5 (see $log)"
  fi
  return 0
}

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

# 1b. The distributed suites and checks under mpirun -np 2 (tests/distributed/run.sh): one line
# each, or a clear "skipped" line when the build has no MPI.
BUILD_DIR="$build" tests/distributed/run.sh >"$build/distributed.log" 2>&1
grep -E '^distributed: ' "$build/distributed.log"
if ! grep -q '^distributed: skipped' "$build/distributed.log"; then
  tally "$build/distributed.log" '^distributed: .*: (ok|FAILED)$' '^distributed: .*: ok$' \
    "tests/distributed/run.sh ran no check" "distributed checks"
fi

# 2. The installed copy as others use it: a consumer program through pkg-config and through
# CMake's find_package, every installed header reachable from the umbrella header, and every
# C++ snippet of README.md compiled and linked against it.
dest=$(mktemp -d)
if meson install -C "$build" --destdir "$dest" >/dev/null 2>&1; then
  prefix="$dest$(meson introspect "$build" --buildoptions | python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')"
  pcdir=$(dirname "$(find "$dest" -name tapegrad.pc | head -1)")
  pc() { PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$prefix" "$@" tapegrad; }
  flags=$(pc --cflags --libs)
  libdir=$(pc --variable=libdir)
  includedir=$(pc --variable=includedir)

  # The consumer's own core/error.h comes after tapegrad's flags: if they put include/tapegrad
  # on the path, tapegrad's core/error.h would win and the program would not compile.
  if g++ -std=c++20 tests/consumer/consumer.cpp $flags -I tests/consumer -o "$dest/consumer" \
       2>"$dest/err" && LD_LIBRARY_PATH="$libdir" "$dest/consumer" >/dev/null; then
    pass 1
  else
    cat "$dest/err"; fail 1 "installed-library consumer through pkg-config (tests/consumer)"
  fi

  if cmake -S tests/consumer -B "$dest/cmake" -DCMAKE_PREFIX_PATH="$prefix" >"$dest/cmake.log" 2>&1 &&
     cmake --build "$dest/cmake" >>"$dest/cmake.log" 2>&1 &&
     LD_LIBRARY_PATH="$libdir" "$dest/cmake/consumer" >/dev/null; then
    pass 1
  else
    tail -30 "$dest/cmake.log"; fail 1 "installed-library consumer through CMake find_package(tapegrad)"
  fi

  # g++ -M lists every header a file reaches; each installed header must be among them.
  installed=$(cd "$includedir" && find tapegrad -name '*.h' | sort)
  reached=$(echo '#include <tapegrad/tapegrad.h>' |
            g++ -std=c++20 $flags -x c++ -M -MT umbrella - 2>"$dest/err" | tr ' \\' '\n\n' |
            sed -n "s|^$includedir/||p" | sort -u)
  unreached=$(comm -23 <(echo "$installed") <(echo "$reached"))
  if [ -n "$reached" ] && [ -z "$unreached" ]; then
    pass 1
  else
    cat "$dest/err"
    fail 1 "installed headers that <tapegrad/tapegrad.h> does not reach: $(echo $unreached)"
  fi

  if snippets=$(python3 tests/readme/snippets.py README.md "$dest/readme"); then
    for name in $snippets; do
      if g++ -std=c++20 "$dest/readme/$name.cpp" $flags -o "$dest/readme/$name" \
           2>"$dest/readme/$name.err"; then
        pass 1
      else
        grep -m 20 -E 'error|required from' "$dest/readme/$name.err"
        fail 1 "README.md's C++ snippet at line ${name#snippet_} (tests/readme/snippets.py)"
      fi
    done
  else
    fail 1 "tests/readme/snippets.py README.md"
  fi
else
  fail 1 "meson install"
fi
rm -rf "$dest"

# 3. tapegrad as a Meson subproject (tests/subproject/): only the library is built (no tests,
# examples or benchmarks; doctest never looked up) and dependency('tapegrad') links it.
# Under the build folder, so that ccache serves the library's objects on later runs.
sub="$build/subproject-test"
rm -rf "$sub" && mkdir -p "$sub/subprojects"
cp tests/subproject/meson.build tests/subproject/app.cpp "$sub/"
ln -s "$PWD" "$sub/subprojects/tapegrad"
if meson setup "$sub/build" "$sub" >"$sub/setup.log" 2>&1 && ninja -C "$sub/build" >"$sub/ninja.log" 2>&1 &&
   "$sub/build/app" >/dev/null; then
  extra=$(meson introspect "$sub/build" --targets | python3 -c '
import json, re, sys
for t in json.load(sys.stdin):
    if re.search(r"subprojects/tapegrad/(tests|examples|bench)/", t["defined_in"]):
        print(t["name"])')
  if [ -n "$extra" ]; then
    fail 1 "tapegrad as a subproject builds more than its library: $(echo $extra)"
  elif grep -qi doctest "$sub/build/meson-logs/meson-log.txt"; then
    fail 1 "tapegrad as a subproject looks for doctest (see $sub/build/meson-logs/meson-log.txt)"
  else
    pass 1
  fi
else
  tail -30 "$sub/setup.log" "$sub/ninja.log" 2>/dev/null
  fail 1 "tapegrad as a Meson subproject (tests/subproject)"
fi

# 4. Example smoke runs (a few steps each on small generated data).
for smoke in tests/smoke/*.sh; do
  [ -e "$smoke" ] || continue
  if BUILD_DIR="$build" bash "$smoke" >"$build/$(basename "$smoke").log" 2>&1; then
    pass 1
  else
    tail -20 "$build/$(basename "$smoke").log"; fail 1 "$smoke"
  fi
done

# 5. Portability (scripts/portability.sh): the example and the dispatched kernels' suites
# under emulated older CPUs (qemu-user: AVX2-only Haswell, Nehalem without AVX), where an
# instruction the CPU lacks is a SIGILL, and natively at each lower TAPEGRAD_CPU_CAPABILITY.
BUILD_DIR="$build" scripts/portability.sh >"$build/portability.log" 2>&1
grep -E '^portability' "$build/portability.log"
tally "$build/portability.log" '^portability: .*: (ok|FAILED)' '^portability: .*: ok$' \
  "scripts/portability.sh ran no check" "portability checks"

# 6. Hardening: the whole doctest suite under AddressSanitizer + UndefinedBehaviorSanitizer
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
  tally "$build/fuzz.log" '^fuzz_[a-z0-9_]+: ' '^fuzz_[a-z0-9_]+: .* 0 findings ' \
    "scripts/fuzz.sh ran no target" "fuzz targets with findings"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
