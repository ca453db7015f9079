#!/usr/bin/env bash
# Smoke run of the accelerated-MRI example at a tiny size (seconds): the TV reconstruction
# must beat the zero-filled one on every row, the images must be written, and the command
# line must follow the examples' conventions (--help exits 0, a bad option exits 2 naming it).
set -euo pipefail
build=${BUILD_DIR:-build}
exe="$build/examples/mri_reconstruction"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$exe" --help > "$dir/help"
grep -q '^usage: mri_reconstruction \[options\]' "$dir/help"
grep -q -- '--tv-lambda' "$dir/help"
if "$exe" --size 30 --out "$dir/bad" 2> "$dir/err"; then echo "FAILED: --size 30 accepted"; exit 1; fi
grep -q '^mri_reconstruction: --size must be a multiple of 4' "$dir/err"
set +e
"$exe" --bogus 2> "$dir/err"; code=$?
set -e
[ "$code" -eq 2 ] || { echo "FAILED: --bogus exited $code, expected 2"; exit 1; }
grep -q "^mri_reconstruction: unknown option '--bogus'" "$dir/err"
[ ! -e "$dir/bad" ] || { echo "FAILED: a bad command line wrote $dir/bad"; exit 1; }

"$exe" --size 32 --test-images 2 --tv-iters 150 --train-steps 10 --batch-size 4 --channels 4 \
  --threads 1 --out "$dir/out" | tee "$dir/log"
# PSNR of each (acceleration, test set) row: TV above zero-filled, by at least 1 dB.
awk '
  $1 == "zero-filled" { key = $2 " " $3; zf[key] = $(NF - 2) }
  $1 == "TV" { key = $2 " " $3; tv[key] = $(NF - 2) }
  END {
    n = 0
    for (k in zf) {
      n++
      if (!(k in tv) || tv[k] < zf[k] + 1) { print "FAILED: TV " tv[k] " vs zero-filled " zf[k] " dB at " k; bad = 1 }
    }
    if (n != 4) { print "FAILED: expected 4 zero-filled rows, got " n; bad = 1 }
    exit bad
  }' "$dir/log"
for acc in 4 8; do
  for set in phantom shepp_logan; do
    for suffix in "" _error; do
      test -s "$dir/out/mri_${acc}x_${set}${suffix}.png" || { echo "FAILED: no mri_${acc}x_${set}${suffix}.png"; exit 1; }
    done
  done
done
echo "mri_reconstruction smoke: ok"
