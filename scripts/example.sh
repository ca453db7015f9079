#!/usr/bin/env bash
# Builds tapegrad and runs one example, fetching its data set first if it is
# missing (from the official address, or from $TAPEGRAD_DATA_MIRROR: a URL or
# a local directory holding the same files).
#   scripts/example.sh airfoil [example options...]
#   scripts/example.sh lenet_cifar10 --epochs 2
#   scripts/example.sh newton | optimizers_2d | forward_trace
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n 's/^#   //p' "$0"; exit 2; }
name=$1
shift
build=${BUILD_DIR:-build}

scripts/install-deps.sh
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" >/dev/null
[ -x "$build/examples/$name" ] || { echo "example: no example named '$name' (see examples/)" >&2; exit 2; }

data=()
case "$name" in
  airfoil)
    [ -f datasets/airfoil_self_noise.dat ] || scripts/fetch-data.sh airfoil
    data=(--data datasets) ;;
  lenet_cifar10)
    [ -d datasets/cifar-10-batches-bin ] || [ -d datasets/cifar10-jpg ] || scripts/fetch-data.sh cifar10
    data=(--data datasets) ;;
esac
exec "$build/examples/$name" "${data[@]}" "$@"
