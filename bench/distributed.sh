#!/usr/bin/env bash
# Data-parallel LeNet (global batch --batch, --steps steps) and ResNet-20 (batch 128, 10 steps)
# on this machine: 1 process x 2 threads against 2 processes x 1 thread at the same global batch
# (bench/ddp_bench.cpp), each printed as one line. Run it alone on an
# idle machine; docs/distributed.md's "Measured" section takes its figures from here.
#   bench/distributed.sh [--batch 64] [--steps 200]     (build dir: build/, or $BUILD_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
batch=64 steps=200
while [ $# -gt 0 ]; do
  case "$1" in
    --batch) batch=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    *) echo "distributed.sh: unknown option '$1' (--batch N, --steps N)"; exit 2 ;;
  esac
done
meson configure "$build" -Dbench=enabled -Ddistributed=enabled >/dev/null
ninja -C "$build" bench/ddp_bench >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for model in lenet resnet20; do
  args=(--model "$model" --batch "$batch" --steps "$steps")
  [ "$model" = resnet20 ] && args=(--model resnet20 --batch 128 --steps 10)
  "$build/bench/ddp_bench" "${args[@]}" --threads 2
  OMP_NUM_THREADS=1 mpirun -np 2 --oversubscribe --bind-to core \
    "$build/bench/ddp_bench" "${args[@]}" --threads 1
done
