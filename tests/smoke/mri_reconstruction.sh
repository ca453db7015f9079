#!/usr/bin/env bash
# Smoke run of the accelerated-MRI example at a small size (seconds): the TV reconstruction
# must beat the zero-filled one by 1 dB on every row and the briefly trained U-Net the
# zero-filled one on the random phantoms (over seeds 0-3 by 0.5 to 2.8 dB; on Shepp-Logan at 8x
# it ties, so that row is not asserted), the images must be written, and the command line must
# follow the examples' conventions (--help exits 0, a bad option exits 2 naming it).
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

"$exe" --size 64 --test-images 2 --tv-iters 200 --train-steps 150 --channels 4 \
  --out "$dir/out" | tee "$dir/log"
# PSNR of each (acceleration, test set) row: TV above zero-filled by at least 1 dB; the U-Net
# above zero-filled on the phantoms.
awk '
  $1 == "zero-filled" { key = $2 " " $3; zf[key] = $(NF - 2) }
  $1 == "TV" { key = $2 " " $3; tv[key] = $(NF - 2) }
  $1 == "U-Net" { key = $2 " " $3; un[key] = $(NF - 2) }
  END {
    n = 0
    for (k in zf) {
      n++
      if (!(k in tv) || tv[k] < zf[k] + 1) { print "FAILED: TV " tv[k] " vs zero-filled " zf[k] " dB at " k; bad = 1 }
      if (k ~ /phantoms/ && (!(k in un) || un[k] <= zf[k])) { print "FAILED: U-Net " un[k] " vs zero-filled " zf[k] " dB at " k; bad = 1 }
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
