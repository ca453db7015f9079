#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz/ with clang++ and ASan + UBSan, writes a small
# seed corpus (tests/fuzz/make_seeds.cpp), and runs each target for a while. A target treats
# tg::Error as the expected outcome of bad bytes; anything else is a finding (a sanitizer
# report, another exception, a crash, a leak, an allocation over 2 GB, 10 s on one input).
#   scripts/fuzz.sh [seconds] [target...]   (default 60 s each; all five targets)
#   FUZZ_SEED=N scripts/fuzz.sh ...         libFuzzer's -seed: the same inputs in the same
#                                           order on every run (what CI uses); unset: random
#   targets: safetensors airfoil cifar10 image_folder mnist
# The library sources a target needs (core/ and autograd/ for the tensors the safetensors
# decoder makes, and the data readers) are compiled directly into an archive (no OpenMP
# pragmas: decoding runs on one thread) in $FUZZ_BUILD_DIR (default build-fuzz/) by a
# generated ninja file; the link takes only what a target reaches. Corpora grow
# in build-fuzz/corpus/<target>/ and are reused by the next run; findings (crash-*, leak-*,
# oom-*, timeout-*) land in build-fuzz/findings/<target>/ -- reproduce one with
#   build-fuzz/fuzz_<target> build-fuzz/findings/<target>/crash-...
# and check it in under tests/fuzz/regressions/<target>-<what>.bin with its fix.
# Ends with "fuzz: N targets, E executions, F findings"; exits 1 if anything was found.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(safetensors airfoil cifar10 image_folder mnist)
out=${FUZZ_BUILD_DIR:-build-fuzz}
cxx=${FUZZ_CXX:-clang++}

scripts/install-deps.sh --fuzz || { echo "fuzz: installing clang failed"; exit 1; }
mkdir -p "$out"
src=$(pwd)

# ---- build (ninja: incremental, both cores) ----------------------------------------------
flags="-std=c++20 -g -O1 -I$src -I$src/include -I/usr/include/stb"
flags+=" $(pkg-config --cflags fmt nlohmann_json openblas zlib)"
flags+=" -Wall -Wno-unknown-pragmas -fsanitize=address,undefined -fno-sanitize-recover=all"
flags+=" -fno-omit-frame-pointer"
lib=(core/*.cpp autograd/*.cpp data/airfoil.cpp data/cifar10.cpp data/image_folder.cpp
     data/mnist.cpp tests/fuzz/stb_impl.cpp)
{
  echo "cxx = $cxx"
  echo "flags = $flags"
  echo "rule cxx"
  echo "  command = \$cxx \$flags \$extra -MMD -MF \$out.d -c \$in -o \$out"
  echo "  depfile = \$out.d"
  echo "  deps = gcc"
  echo "  description = CXX \$out"
  echo "rule archive"
  echo "  command = rm -f \$out && ar rcs \$out \$in"
  echo "  description = AR \$out"
  echo "rule link"
  echo "  command = \$cxx \$flags \$extra \$in -o \$out $(pkg-config --libs fmt openblas zlib) -fopenmp"
  echo "  description = LINK \$out"
  objs=()
  for s in "${lib[@]}"; do
    o="obj/${s//\//_}.o"
    objs+=("$o")
    echo "build $o: cxx $src/$s"
    echo "  extra = -fsanitize=fuzzer-no-link"
  done
  echo "build libfuzzed.a: archive ${objs[*]}"
  for t in safetensors airfoil cifar10 image_folder mnist; do
    echo "build obj/fuzz_$t.o: cxx $src/tests/fuzz/fuzz_$t.cpp"
    echo "  extra = -fsanitize=fuzzer"
    echo "build fuzz_$t: link obj/fuzz_$t.o libfuzzed.a"
    echo "  extra = -fsanitize=fuzzer"
  done
  echo "build obj/make_seeds.o: cxx $src/tests/fuzz/make_seeds.cpp"
  echo "build make_seeds: link obj/make_seeds.o libfuzzed.a"
  echo "  extra = -fsanitize=fuzzer-no-link"
} >"$out/build.ninja"
if ! ninja -C "$out" >"$out/ninja.log" 2>&1; then
  tail -40 "$out/ninja.log"
  echo "fuzz: build failed"
  exit 1
fi

# ---- seeds, then each target in turn -------------------------------------------------------
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
rm -rf "$out/seeds"
"$out/make_seeds" "$out/seeds" || { echo "fuzz: making seeds failed"; exit 1; }
total_execs=0 total_findings=0
for t in "${targets[@]}"; do
  [ -x "$out/fuzz_$t" ] || { echo "fuzz: unknown target '$t'"; exit 2; }
  mkdir -p "$out/corpus/$t" "$out/findings/$t"
  log="$out/fuzz_$t.log"
  start=$(date +%s)
  "$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    ${FUZZ_SEED:+-seed="$FUZZ_SEED"} \
    -artifact_prefix="$out/findings/$t/" "$out/corpus/$t" "$out/seeds/$t" >"$log" 2>&1
  status=$?
  execs=$(grep -E '^stat::number_of_executed_units:' "$log" | awk '{print $2}' | tail -1)
  execs=${execs:-0}
  findings=$(find "$out/findings/$t" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' \
             -o -name 'timeout-*' \) -newer "$out/build.ninja" | wc -l)
  [ "$status" -ne 0 ] && [ "$findings" -eq 0 ] && findings=1  # died without an artifact
  corpus=$(find "$out/corpus/$t" -type f | wc -l)
  echo "fuzz_$t: $execs executions in $(( $(date +%s) - start )) s, corpus $corpus inputs," \
       "$findings findings (exit $status; log $log)"
  if [ "$findings" -gt 0 ]; then
    grep -E 'ERROR|runtime error|terminate called|what\(\)' "$log" | head -5
  fi
  total_execs=$((total_execs + execs))
  total_findings=$((total_findings + findings))
done
echo "fuzz: ${#targets[@]} targets, $total_execs executions, $total_findings findings"
[ "$total_findings" -eq 0 ]
