#!/usr/bin/env bash
# Smoke run of the 2-D optimizer experiments: the deterministic runs must land
# where the course's from-scratch code lands (d2l 11.3, 11.6-11.8).
set -euo pipefail
build=${BUILD_DIR:-build}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$build/examples/optimizers_2d" --out "$dir" | tee "$dir/log"
grep -q '^gd  *epoch 20, x1: -0.057646, x2: -0.000073$' "$dir/log"
grep -q '^gd_narrow  *epoch 20, x1: -0.943467, x2: -0.000073$' "$dir/log"
grep -q '^momentum_0.5  *epoch 20, x1: 0.007188, x2: 0.002553$' "$dir/log"
grep -q '^adagrad  *epoch 20, x1: -2.382563, x2: -0.158591$' "$dir/log"
grep -q '^rmsprop  *epoch 20, x1: -0.010599, x2: 0.000000$' "$dir/log"
test "$(ls "$dir"/*.svg | wc -l)" -eq 13
