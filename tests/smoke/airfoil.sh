#!/usr/bin/env bash
# Smoke run of the airfoil example on a small generated table (a noisy linear
# function of 5 features, CRLF line ends like the real file): every method of
# the study must run and end near the least-squares floor, and --optimizer NAME
# must run that method at its course settings (learning rate included), printing
# the study's own row unless --batch-size, --lr or --epochs change it.
set -euo pipefail
build=${BUILD_DIR:-build}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk 'BEGIN { srand(7); for (i = 0; i < 400; i++) { s = 0; line = "";
       for (j = 0; j < 5; j++) { x = rand() * 10; s += (j + 1) * x; line = line x "\t" }
       printf "%s%.6f\r\n", line, s + rand() } }' > "$dir/airfoil_self_noise.dat"
"$build/examples/airfoil" --data "$dir" --out "$dir/out" --rows 300 | tee "$dir/log"
test -s "$dir/out/airfoil.csv"
grep -q '<svg' "$dir/out/airfoil_loss.svg"
# every method reaches a loss within 0.05 of the closed-form floor (data standardised)
awk '/normal-equations/ { floor = $2 } $1 ~ /^(gd|sgd|minibatch|momentum|adagrad|rmsprop|adadelta|adam|yogi)/ { loss[$1] = $5 }
     END { n = 0; for (m in loss) { n++; if (loss[m] > floor + 0.05) { print "too high:", m, loss[m], floor; exit 1 } }
           if (n != 10) { print "expected 10 methods, got", n; exit 1 } }' "$dir/log"
# --optimizer runs one method of the study at its settings: the same row, the same loss.
row() { awk -v m="$1" '$1 == m { print $2, $3, $4, $5 }' "$2"; }
for method in gd momentum adagrad; do
  "$build/examples/airfoil" --data "$dir" --out "$dir/one" --rows 300 --optimizer "$method" > "$dir/one.log"
  [ "$(row "$method" "$dir/one.log")" = "$(row "$method" "$dir/log")" ] ||
    { echo "--optimizer $method: '$(row "$method" "$dir/one.log")', the study: '$(row "$method" "$dir/log")'"; exit 1; }
done
[ "$(row momentum "$dir/log" | cut -d' ' -f1-3)" = "10 0.02 2" ]  # the course's momentum row
# --lr, --batch-size and --epochs change only what they name (--name=value works too).
"$build/examples/airfoil" --data "$dir" --out "$dir/one" --rows 300 --optimizer=momentum --lr=0.05 \
  --epochs 3 > "$dir/lr.log"
[ "$(row momentum "$dir/lr.log" | cut -d' ' -f1-3)" = "10 0.05 3" ]
"$build/examples/airfoil" --data "$dir" --out "$dir/one" --rows 300 --batch-size 20 > "$dir/bs.log"
[ "$(row minibatch-10 "$dir/bs.log" | cut -d' ' -f1-3)" = "20 0.05 2" ]
head -1 "$dir/out/airfoil.csv" | grep -q '^method,examples,seconds,loss$'
# bad input: a clear error, exit code 1; bad option: exit code 2
printf '1\t2\tx\t4\t5\t6\r\n' > "$dir/bad.dat"
set +e
"$build/examples/airfoil" --data "$dir/bad.dat" --out "$dir/out" 2> "$dir/err"; code=$?
"$build/examples/airfoil" --bogus 2>/dev/null; code2=$?
set -e
grep -q "bad.dat" "$dir/err" && [ "$code" -eq 1 ] && [ "$code2" -eq 2 ]
