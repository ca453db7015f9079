#!/usr/bin/env bash
# Smoke run of the Fashion-MNIST example on the real data (Debian's dataset-fashion-mnist,
# installed by scripts/install-deps.sh): one epoch on the first 3000 training images, tested
# on the first 2000 test images, must beat chance (10%) by far: at least 60% (it gets about
# 70%). Training writes the CSV log, both SVG plots, the checkpoint and the confusion matrix;
# --eval-only on uncompressed copies of the test files (gunzipped into a temp folder) gives the
# same accuracy as the run on the gzip files; 1 epoch + --resume equals 2 epochs straight; a
# missing --data folder exits 1 naming it. (tests/smoke/cli.sh checks the conventions shared by
# all examples.)
set -euo pipefail
build=${BUILD_DIR:-build}
bin="$build/examples/fashion_mnist"
data=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
if [ ! -f "$data/train-images-idx3-ubyte.gz" ]; then
  echo "fashion_mnist smoke: no Fashion-MNIST in $data (scripts/install-deps.sh installs" \
       "dataset-fashion-mnist)"
  exit 1
fi

common=(--data "$data" --limit 3000 --test-limit 2000 --threads 2 --seed 1)

# 1 epoch: every output is there, and the network learned something.
"$bin" "${common[@]}" --epochs 1 --out "$dir/a" | tee "$dir/a.log"
for f in fashion_mnist.csv fashion_mnist_confusion.csv fashion_mnist.safetensors; do
  test -s "$dir/a/$f"
done
grep -q '<svg' "$dir/a/fashion_mnist_loss.svg"
grep -q '<svg' "$dir/a/fashion_mnist_accuracy.svg"
[ "$(wc -l < "$dir/a/fashion_mnist.csv")" -eq 2 ]  # header + 1 epoch
grep -q '^data: 3000 training and 2000 test images of 10 classes' "$dir/a.log"
grep -q '^Ankle boot ' "$dir/a.log"  # the per-class table names the classes
accuracy=$(sed -n 's/^accuracy of the network on the 2000 test images: \([0-9.]*\)%.*/\1/p' \
           "$dir/a.log")
awk -v a="$accuracy" 'BEGIN { if (a == "" || a < 60) { print "accuracy too low:", a; exit 1 } }'

# The same test images, uncompressed: --eval-only reads them and finds the same accuracy.
mkdir -p "$dir/raw"
gunzip -c "$data/t10k-images-idx3-ubyte.gz" > "$dir/raw/t10k-images-idx3-ubyte"
gunzip -c "$data/t10k-labels-idx1-ubyte.gz" > "$dir/raw/t10k-labels-idx1-ubyte"
"$bin" --eval-only "$dir/a/fashion_mnist.safetensors" --data "$dir/raw" --test-limit 2000 \
  --out "$dir/e" | tee "$dir/e.log"
grep -q "^accuracy of the network on the 2000 test images: $accuracy%" "$dir/e.log"
test -s "$dir/e/fashion_mnist_confusion.csv"

# 1 epoch, then --resume to 2, equals 2 epochs straight (timings aside); on 1000 images.
small=(--data "$data" --limit 1000 --test-limit 500 --threads 1 --seed 2 --schedule none)
"$bin" "${small[@]}" --epochs 2 --out "$dir/s" > /dev/null
"$bin" "${small[@]}" --epochs 1 --out "$dir/r" > /dev/null
"$bin" --resume "$dir/r/fashion_mnist.safetensors" --epochs 2 --data "$data" --test-limit 500 \
  --threads 1 --out "$dir/r" | tee "$dir/r.log"
grep -q '^checkpoint: .* (after epoch 1, 16 steps)' "$dir/r.log"
diff <(cut -d, -f1-5 "$dir/s/fashion_mnist.csv") <(cut -d, -f1-5 "$dir/r/fashion_mnist.csv")

# A missing --data folder: exit code 1, one line naming it.
set +e
"$bin" --data "$dir/missing" --out "$dir/m" 2> "$dir/data.err"; data_code=$?
set -e
cat "$dir/data.err"
[ "$data_code" -eq 1 ] &&
  grep -q "^fashion_mnist: error: read_mnist: $dir/missing: no such directory" "$dir/data.err"
echo "fashion_mnist smoke: ok"
