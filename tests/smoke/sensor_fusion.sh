#!/usr/bin/env bash
# Smoke run of the sensor-fusion example at a tiny size: the fused chemical maps must beat the
# raw EDX maps (PSNR against the ground truth) for every element, the images and the curves
# must be written, the dose sweep must run, and the command line must follow the shared
# conventions (--help exits 0, a bad option exits 2 with one line, before any output).
set -euo pipefail
build=${BUILD_DIR:-build}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
exe="$build/examples/sensor_fusion"

"$exe" --cells 3 --iterations 10 --out "$dir/run" | tee "$dir/log"
# rows "Dy  16.51 dB  27.22 dB  3.43x  0.512  0.873": fused PSNR ($4) must exceed raw PSNR ($2),
# and fused SSIM ($8) raw SSIM ($7)
for element in Dy Sc O; do
  row=$(grep -E "^$element +[0-9.]+ dB +[0-9.]+ dB +[0-9.]+x +-?[0-9.]+ +-?[0-9.]+$" "$dir/log") ||
    { echo "FAILED: no PSNR row for $element"; exit 1; }
  awk -v e="$element" '{ if (!($4 > $2)) { print "FAILED: " e ": fused " $4 " dB <= raw " $2 " dB"; exit 1 } }' <<< "$row"
  awk -v e="$element" '{ if (!($8 > $7)) { print "FAILED: " e ": fused SSIM " $8 " <= raw " $7; exit 1 } }' <<< "$row"
done
grep -qE "^stoichiometry within [0-9.]+% of 1:1:3" "$dir/log"
for f in haadf.png fusion_Dy.png fusion_Sc.png fusion_O.png convergence.svg; do
  [ -s "$dir/run/$f" ] || { echo "FAILED: $f not written"; exit 1; }
done

"$exe" --cells 2 --iterations 3 --gradient-steps 5 --sweep --out "$dir/sweep" > "$dir/sweep.log"
[ "$(grep -cE '^(Dy|Sc|O) ' "$dir/sweep.log")" -eq 15 ] || { echo "FAILED: sweep rows"; exit 1; }
[ -s "$dir/sweep/dose_sweep.svg" ] || { echo "FAILED: dose_sweep.svg not written"; exit 1; }

"$exe" --help > "$dir/help"
grep -q "^usage: sensor_fusion \[options\]" "$dir/help"
grep -q -- "--dose" "$dir/help"

status=0
"$exe" --dose 0 --out "$dir/bad" 2> "$dir/err" || status=$?
[ "$status" -eq 2 ] || { echo "FAILED: --dose 0 exited $status, expected 2"; exit 1; }
[ "$(wc -l < "$dir/err")" -eq 1 ] && grep -q "^sensor_fusion: --dose must be > 0, got 0" "$dir/err" ||
  { echo "FAILED: --dose 0 message: $(cat "$dir/err")"; exit 1; }
status=0
"$exe" --bogus 2> "$dir/err" || status=$?
[ "$status" -eq 2 ] && grep -q "unknown option '--bogus'" "$dir/err" ||
  { echo "FAILED: --bogus exited $status: $(cat "$dir/err")"; exit 1; }
[ ! -e "$dir/bad" ] || { echo "FAILED: output written before the options were checked"; exit 1; }
echo "sensor_fusion smoke: ok"
