#!/usr/bin/env bash
# Builds one example and runs it, saying what it does at each step: installing the Debian
# packages (first run only), configuring build/, compiling the library and that one program
# (not the tests or the other examples), fetching its data set if it is missing (from the
# official address, or from $TAPEGRAD_DATA_MIRROR: a URL or a local directory holding the
# same files).
#   scripts/example.sh airfoil [example options...]
#   scripts/example.sh lenet_cifar10 --epochs 2
#   scripts/example.sh fashion_mnist --epochs 3   (data: Debian's dataset-fashion-mnist)
#   scripts/example.sh newton | optimizers_2d | forward_trace
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n 's/^#   //p' "$0"; exit 2; }
name=$1
shift
build=${BUILD_DIR:-build}
say() { echo "example: $*" >&2; }

[ -f "examples/$name.cpp" ] || {
  say "no example named '$name' (examples: $(cd examples && ls *.cpp | sed 's/\.cpp$//' | xargs))"
  exit 2
}

scripts/install-deps.sh
if [ ! -f "$build/build.ninja" ]; then
  say "configuring $build/ (meson setup $build)"
  meson setup "$build" >"$build.setup.log" 2>&1 || { cat "$build.setup.log" >&2; exit 1; }
  rm -f "$build.setup.log"
fi
say "building examples/$name and the library it links (ninja -C $build examples/$name)"
ninja -C "$build" "examples/$name" >&2

data=()
case "$name" in
  airfoil)
    [ -f datasets/airfoil_self_noise.dat ] ||
      { say "fetching the airfoil data set"; scripts/fetch-data.sh airfoil >&2; }
    data=(--data datasets) ;;
  lenet_cifar10)
    [ -d datasets/cifar-10-batches-bin ] || [ -d datasets/cifar10-jpg ] ||
      { say "fetching CIFAR-10 (170 MB)"; scripts/fetch-data.sh cifar10 >&2; }
    data=(--data datasets) ;;
esac
say "running $(echo "$build/examples/$name" "${data[@]}" "$@")"
exec "$build/examples/$name" "${data[@]}" "$@"
