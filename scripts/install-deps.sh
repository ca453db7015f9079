#!/usr/bin/env bash
# Installs every Debian 12 package that tapegrad's build, tests, examples and
# benchmarks need. Idempotent: packages already present are skipped, and it says what it
# installs (on stderr) only when something is missing.
#   scripts/install-deps.sh          build + tests + examples
#   scripts/install-deps.sh --bench  also python3-torch/torchvision (the peer)
#   scripts/install-deps.sh --fuzz   also clang, its sanitizer runtimes and OpenMP runtime
set -euo pipefail

# qemu-user: scripts/test.sh runs the build under emulated older CPUs (scripts/portability.sh).
packages=(g++ meson ninja-build pkg-config libopenblas-openmp-dev libfmt-dev
          doctest-dev libstb-dev nlohmann-json3-dev python3 curl ca-certificates qemu-user
          cmake)  # cmake: scripts/test.sh builds a consumer through find_package(tapegrad)
# zlib1g-dev: the gzip IDX files (data/mnist.cpp); dataset-fashion-mnist: the data of
# examples/fashion_mnist (30 MB, in /usr/share/datasets/fashion-mnist).
packages+=(zlib1g-dev dataset-fashion-mnist)
# libkissfft-dev: the 2-D FFTs of core/fft.cpp (fft2/ifft2; examples/mri_reconstruction), BSD.
packages+=(libkissfft-dev)
# libopenmpi-dev, openmpi-bin: the optional distributed/ library (data parallelism over MPI) and
# its tests under mpirun (tests/distributed/run.sh).
packages+=(libopenmpi-dev openmpi-bin)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(python3-torch python3-torchvision) ;;
    --fuzz) packages+=(clang libclang-rt-14-dev libomp-dev) ;;
    *) echo "install-deps: unknown option '$arg' (expected --bench or --fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]} (apt-get; a minute or two)" >&2
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
