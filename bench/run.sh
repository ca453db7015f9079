#!/usr/bin/env bash
# The side-by-side benchmark (issue 7) in one command: installs the benchmark's Debian
# packages, builds tapegrad's release build in build-bench/, runs each tapegrad program
# (bench/*_bench.cpp, --json) and the same workloads in PyTorch (bench/torch_bench.py) at
# each thread setting, alternating the two sides, and writes the markdown table to
# bench/RESULTS.md and stdout. Takes a few minutes; --with-cifar adds the course's
# CIFAR-10 recipe: 2 epochs x --cifar-repeats runs x thread settings x 2 sides, at about
# 15 s per epoch, plus decoding the 60000 images once per process.
#   bench/run.sh [--with-cifar DIR] [--repeats N] [--cifar-repeats N] [--threads "1 2"]
#                [--airfoil FILE] [--build-dir DIR] [--keep DIR] [--out FILE]
# DIR for --with-cifar holds train/<class>/*.jpg and test/<class>/*.jpg (e.g. the
# cifar10-jpg folder that scripts/fetch-data.sh cifar10 --mirror DIR unpacks).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
say() { echo "run.sh: $*" >&2; }
die() { echo "run.sh: $*" >&2; exit 2; }
usage="bench/run.sh [--with-cifar DIR] [--repeats N] [--cifar-repeats N] [--threads \"1 2\"]"
usage+=" [--airfoil FILE] [--build-dir DIR] [--keep DIR] [--out FILE]"

repeats=5
cifar=""
cifar_repeats=3
threads_list="1 2"
airfoil="$root/datasets/airfoil_self_noise.dat"
build="$root/build-bench"
keep=""
out="$root/bench/RESULTS.md"
images=4096   # LeNet images per timed repeat (both sides)
steps=50      # LeNet training steps of the memory run (both sides)

need() { [ $# -ge 2 ] || die "$1 needs a value"; }
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 expects a positive integer, got '$2'"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --with-cifar) need "$@"; cifar="$2"; shift ;;
    --repeats) need "$@"; positive "$1" "$2"; repeats="$2"; shift ;;
    --cifar-repeats) need "$@"; positive "$1" "$2"; cifar_repeats="$2"; shift ;;
    --threads) need "$@"; threads_list="$2"; shift
      for t in $threads_list; do positive --threads "$t"; done
      [ -n "${threads_list// /}" ] || die "--threads expects thread counts, e.g. \"1 2\"" ;;
    --airfoil) need "$@"; airfoil="$2"; shift ;;
    --build-dir) need "$@"; build="$2"; shift ;;
    --keep) need "$@"; keep="$2"; shift ;;
    --out) need "$@"; out="$2"; shift ;;
    -h|--help) echo "usage: $usage"; exit 0 ;;
    *) die "unknown option '$1' (usage: $usage)" ;;
  esac
  shift
done
[ -z "$cifar" ] || [ -d "$cifar/train" -a -d "$cifar/test" ] ||
  die "--with-cifar: '$cifar' has no train/ and test/ folders of class folders"

# 1. Dependencies: the build's, plus python3-torch and python3-torchvision.
"$root/scripts/install-deps.sh" --bench
# PyTorch is a Debian package, so it is the system interpreter's, whatever python3 is first
# on PATH (pyenv and virtualenvs do not see it).
py=/usr/bin/python3
"$py" -c 'import torch, torchvision' 2>/dev/null ||
  die "$py cannot import torch and torchvision (python3-torch, python3-torchvision)"

# 2. The data: the airfoil table (fetched into datasets/ if absent).
if [ ! -f "$airfoil" ]; then
  [ "$airfoil" = "$root/datasets/airfoil_self_noise.dat" ] || die "no airfoil table at '$airfoil'"
  "$root/scripts/fetch-data.sh" airfoil >&2
fi

# 3. tapegrad's release build of the benchmark programs (opt-in: -Dbench=enabled).
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$root" --buildtype=release -Dbench=enabled >&2
else
  meson configure "$build" -Dbench=enabled >&2
fi
ninja -C "$build" bench/lenet_bench bench/airfoil_bench bench/micro_bench bench/resnet_bench >&2

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

# Runs one side of one workload at one thread count, appending its JSON lines.
tapegrad() {  # tapegrad PROGRAM THREADS ARGS...
  local program="$1" t="$2"; shift 2
  say "tapegrad $program $* (threads $t)"
  "$build/bench/$program" --threads "$t" --json "$@" >>"$results/tapegrad-$t.jsonl" ||
    die "$program $* --threads $t failed"
}
pytorch() {  # pytorch WORKLOAD THREADS ARGS...
  local workload="$1" t="$2"; shift 2
  say "pytorch $workload $* (threads $t)"
  OPENBLAS_NUM_THREADS=1 "$py" "$root/bench/torch_bench.py" --workload "$workload" \
    --threads "$t" --json "$@" >>"$results/pytorch-$t.jsonl" ||
    die "torch_bench.py --workload $workload $* --threads $t failed"
}

start=$(date +%s)
for t in $threads_list; do
  tapegrad lenet_bench "$t" --repeats "$repeats" --images "$images"
  pytorch lenet "$t" --repeats "$repeats" --images "$images"
  tapegrad resnet_bench "$t" --repeats "$repeats" --images 512
  pytorch resnet "$t" --repeats "$repeats" --images 512
  tapegrad lenet_bench "$t" --memory --steps "$steps"
  pytorch memory "$t" --steps "$steps"
  tapegrad airfoil_bench "$t" --repeats "$repeats" --data "$airfoil"
  pytorch airfoil "$t" --repeats "$repeats" --data "$airfoil"
  tapegrad micro_bench "$t" --repeats "$repeats"
  pytorch micro "$t" --repeats "$repeats"
  if [ -n "$cifar" ]; then
    tapegrad lenet_bench "$t" --cifar "$cifar" --repeats "$cifar_repeats" --epochs 2
    pytorch cifar "$t" --cifar "$cifar" --repeats "$cifar_repeats" --epochs 2
  fi
done
say "ran in $(( $(date +%s) - start )) s"

command="bench/run.sh"
[ -z "$cifar" ] || command="$command --with-cifar DIR"
commit="$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)"
"$py" "$root/bench/assemble.py" --out "$out" \
  --info "date=$(date -u '+%Y-%m-%d %H:%M UTC')" --info "command=$command" \
  --info "commit=$commit" --append "$root/bench/COMPARE.md" \
  "$results"/tapegrad-*.jsonl "$results"/pytorch-*.jsonl
say "wrote $out"
if [ -n "$keep" ]; then
  mkdir -p "$keep" && cp "$results"/*.jsonl "$keep"/ && say "kept the JSON lines in $keep"
fi
