#!/usr/bin/env bash
# Smoke run of the LeNet CIFAR-10 example on a tiny generated data set in the CIFAR-10 binary
# format (200 training and 100 test records; each class has its own mean colour, so it is
# learnable in a few steps): training writes the CSV log, both SVG plots and the checkpoint;
# 1 epoch + --resume equals 2 epochs straight (augmentation included); --eval-only reproduces
# the test accuracy; the other norm, optimizer and schedule run; --model resnet20 trains and
# resumes exactly; a diverging run stops with
# exit code 1 and leaves the checkpoint untouched; a bad --data path gives exit code 1 naming
# the path, and a bad option exit code 2 (tests/smoke/cli.sh checks the conventions shared by all
# examples).
set -euo pipefail
build=${BUILD_DIR:-build}
bin="$build/examples/lenet_cifar10"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
data="$dir/cifar-10-batches-bin"
mkdir -p "$data"

# A record: 1 label byte, then 1024 R, 1024 G and 1024 B bytes. Class k has the mean colour
# (40 + 100 a, 40 + 100 b, 40 + 100 c) where a b c are k's base-3 digits, plus noise +-30.
perl -e '
  srand(7);
  sub batch {
    my ($path, $n, $first) = @_;
    open(my $f, ">:raw", $path) or die "$path: $!";
    for my $i (0 .. $n - 1) {
      my $k = ($first + $i) % 10;
      my @digits = ($k % 3, int($k / 3) % 3, int($k / 9));
      print $f pack("C", $k);
      for my $c (0 .. 2) {
        print $f pack("C*", map { 40 + 100 * $digits[$c] + int(rand(61)) - 30 } 1 .. 1024);
      }
    }
  }
  batch("'"$data"'/data_batch_$_.bin", 40, 7 * $_) for 1 .. 5;
  batch("'"$data"'/test_batch.bin", 100, 3);
'

common=(--data "$dir" --norm batchnorm --optimizer adam --lr 0.01 --batch-size 10 --augment
        --print-every 5 --threads 1 --seed 3)

# 2 epochs straight: every output is there, and the network learned something.
"$bin" "${common[@]}" --epochs 2 --out "$dir/a" | tee "$dir/a.log"
for f in lenet_cifar10.csv lenet_cifar10_confusion.csv lenet_cifar10.safetensors; do
  test -s "$dir/a/$f"
done
grep -q '<svg' "$dir/a/lenet_cifar10_loss.svg"
grep -q '<svg' "$dir/a/lenet_cifar10_accuracy.svg"
[ "$(wc -l < "$dir/a/lenet_cifar10.csv")" -eq 3 ]  # header + 2 epochs
grep -q '^\[2,    20\] loss: ' "$dir/a.log"          # the course's running loss
# Off a terminal the progress bar writes one line per epoch, when the epoch ends.
[ "$(grep -c '^epoch 2/2: 100%|██████████| 20/20 \[.*batch/s, loss=' "$dir/a.log")" -eq 1 ]
[ "$(grep -c '^epoch [12]/2: ' "$dir/a.log")" -eq 4 ]  # two bars, two summaries
accuracy=$(sed -n 's/^accuracy of the network on the 100 test images: \([0-9.]*\)%.*/\1/p' "$dir/a.log")
awk -v a="$accuracy" 'BEGIN { if (a < 40) { print "test accuracy too low:", a; exit 1 } }'

# 1 epoch, then --resume to 2: the same numbers as the straight run (timings aside).
"$bin" "${common[@]}" --epochs 1 --out "$dir/b" > "$dir/b.log"
"$bin" --resume "$dir/b/lenet_cifar10.safetensors" --epochs 2 --data "$dir" --out "$dir/b" \
  --threads 1 | tee "$dir/b2.log"
grep -q '^checkpoint: .* (after epoch 1, 20 steps)' "$dir/b2.log"
diff <(cut -d, -f1-6 "$dir/a/lenet_cifar10.csv") <(cut -d, -f1-6 "$dir/b/lenet_cifar10.csv")

# --eval-only reports the accuracy of the checkpoint.
"$bin" --eval-only "$dir/a/lenet_cifar10.safetensors" --data "$dir" --out "$dir/e" | tee "$dir/e.log"
grep -q "^accuracy of the network on the 100 test images: $accuracy%" "$dir/e.log"
test -s "$dir/e/lenet_cifar10_confusion.csv"

# Group norm, AdamW and the cosine schedule; --data naming the binary folder itself. A run with
# a schedule resumes only to the same number of epochs (exit code 2 otherwise).
"$bin" --data "$data" --out "$dir/g" --norm groupnorm --optimizer adamw --schedule cosine \
  --batch-size 25 --epochs 1 --threads 1 > "$dir/g.log"
grep -q '^epoch 1/1: ' "$dir/g.log"

# --model resnet20: trains (BatchNorm buffers included) and resumes to the same numbers.
resnet=(--data "$dir" --model resnet20 --lr 0.05 --weight-decay 5e-4 --augment --crop-padding 4
        --batch-size 25 --threads 1 --seed 2)
"$bin" "${resnet[@]}" --epochs 2 --out "$dir/r" > "$dir/r.log" || { cat "$dir/r.log"; exit 1; }
grep -q '^CifarResNet(depth=20, num_classes=10, shortcut=A, .*# 269,722' "$dir/r.log"
"$bin" "${resnet[@]}" --epochs 1 --out "$dir/r1" > /dev/null
"$bin" --resume "$dir/r1/lenet_cifar10.safetensors" --epochs 2 --data "$dir" --out "$dir/r1" \
  --threads 1 > /dev/null
diff <(cut -d, -f1-6 "$dir/r/lenet_cifar10.csv") <(cut -d, -f1-6 "$dir/r1/lenet_cifar10.csv")

set +e
"$bin" --model resnet20 --norm batchnorm 2> "$dir/resnet_norm.err"; resnet_norm_code=$?
"$bin" --resume "$dir/g/lenet_cifar10.safetensors" --data "$dir" --out "$dir/g" --epochs 3 \
  2> "$dir/cosine.err"; cosine_code=$?
# A diverging run stops at the first non-finite loss and leaves the old checkpoint as it was.
cp "$dir/a/lenet_cifar10.safetensors" "$dir/good.safetensors"
"$bin" --data "$dir" --out "$dir/n" --optimizer sgd --lr 1e9 --batch-size 10 --threads 1 \
  --checkpoint "$dir/good.safetensors" > /dev/null 2> "$dir/nan.err"; nan_code=$?
# --detect-anomaly names the op where the first NaN or Inf appears (also exit code 1).
"$bin" --data "$dir" --out "$dir/n" --optimizer sgd --lr 1e9 --batch-size 10 --threads 1 \
  --detect-anomaly > /dev/null 2> "$dir/anomaly.err"; anomaly_code=$?
# A bad --data path: exit code 1, and the message names the path; a bad option: exit code 2.
"$bin" --data "$dir/missing" --out "$dir/m" 2> "$dir/data.err"; data_code=$?
"$bin" --bogus 2> "$dir/option.err"; option_code=$?
"$bin" --norm layernorm 2> "$dir/norm.err"; norm_code=$?
set -e
cat "$dir/nan.err" "$dir/anomaly.err" "$dir/data.err" "$dir/option.err" "$dir/norm.err" "$dir/cosine.err"
[ "$nan_code" -eq 1 ] && grep -q "^lenet_cifar10: error: training stopped: the loss is -\?\(nan\|inf\) at epoch 1, .*last good checkpoint: none yet" "$dir/nan.err"
cmp "$dir/a/lenet_cifar10.safetensors" "$dir/good.safetensors"
[ "$anomaly_code" -eq 1 ] && grep -q "^lenet_cifar10: error: " "$dir/anomaly.err"
[ "$data_code" -eq 1 ] && grep -q "^lenet_cifar10: error: .*$dir/missing" "$dir/data.err"
[ "$option_code" -eq 2 ] && grep -q "unknown option '--bogus'" "$dir/option.err"
[ "$norm_code" -eq 2 ] && grep -q "layernorm" "$dir/norm.err"
[ "$resnet_norm_code" -eq 2 ] && grep -q "norm applies to --model lenet only" "$dir/resnet_norm.err"
[ "$cosine_code" -eq 2 ] && grep -q "epochs 3 differs from the checkpoint's 1" "$dir/cosine.err"
echo "lenet smoke: ok"
