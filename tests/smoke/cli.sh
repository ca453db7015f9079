#!/usr/bin/env bash
# The command-line conventions every example shares (train/cli.h): -h/--help prints the usage
# and exits 0; --name=value and --name value both work; an unknown option or a bad value exits
# 2 with one line naming it, checked before any data is read or any output written; a runtime
# failure exits 1 with one line "<example>: error: ...".
set -uo pipefail
build=${BUILD_DIR:-build}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0
fail() { echo "FAILED: $*"; failures=$((failures + 1)); }

# expect CODE NAME ARGS...: runs the example; the exit code must be CODE; stdout and stderr are
# left in $dir/out and $dir/err.
expect() {
  local code=$1 name=$2
  shift 2
  "$build/examples/$name" "$@" > "$dir/out" 2> "$dir/err"
  local got=$?
  [ "$got" -eq "$code" ] || fail "$name $*: exit code $got, expected $code ($(head -c 300 "$dir/err"))"
}
# one_line PATTERN: stderr is exactly one line and matches PATTERN (grep -E).
one_line() {
  [ "$(wc -l < "$dir/err")" -eq 1 ] && grep -qE "$1" "$dir/err" ||
    fail "stderr is not one line matching '$1': $(cat "$dir/err")"
}

touch "$dir/a-file"
for name in airfoil lenet_cifar10 optimizers_2d newton forward_trace fashion_mnist sensor_fusion \
    mri_reconstruction; do
  for help in --help -h; do
    expect 0 "$name" "$help"
    grep -q "^usage: $name \[options\]" "$dir/out" || fail "$name $help: no usage on stdout"
    grep -q -- "-h, --help" "$dir/out" || fail "$name $help: the usage lists no --help"
    [ -s "$dir/err" ] && fail "$name $help: wrote to stderr: $(cat "$dir/err")"
  done
  expect 2 "$name" --bogus
  one_line "^$name: unknown option '--bogus' \(see --help\)$"
  expect 2 "$name" stray
  one_line "^$name: unexpected argument 'stray'"
done

# Bad values exit 2 before the data is read (the data path is missing: reading it would exit 1)
# and before any output is written.
expect 2 airfoil --data "$dir/missing" --out "$dir/o1" --lr fast
one_line "^airfoil: --lr expects a finite number, got 'fast' \(see --help\)$"
expect 2 airfoil --data "$dir/missing" --out "$dir/o1" --optimizer=newton
one_line "^airfoil: --optimizer must be one of gd, sgd, minibatch-100, minibatch-10, momentum, "
expect 2 airfoil --data "$dir/missing" --out "$dir/o1" --epochs 0
one_line "^airfoil: --epochs must be >= 1, got 0"
expect 2 lenet_cifar10 --data "$dir/missing" --out "$dir/o1" --batch-size=-4
one_line "^lenet_cifar10: --batch-size must be >= 1, got -4"
expect 2 lenet_cifar10 --data "$dir/missing" --out "$dir/o1" --lr
one_line "^lenet_cifar10: --lr needs a value"
expect 2 lenet_cifar10 --data "$dir/missing" --out "$dir/o1" --augment=yes
one_line "^lenet_cifar10: --augment is a flag: it takes no value"
expect 2 lenet_cifar10 --data "$dir/missing" --resume a --eval-only b
one_line "^lenet_cifar10: --resume and --eval-only exclude each other"
expect 2 fashion_mnist --data "$dir/missing" --out "$dir/o1" --limit=-1
one_line "^fashion_mnist: --limit must be >= 0, got -1"
expect 2 fashion_mnist --data "$dir/missing" --out "$dir/o1" --optimizer adam --momentum 0.5
one_line "^fashion_mnist: --momentum applies to --optimizer sgd only"
expect 2 optimizers_2d --out "$dir/o1" --seed x
one_line "^optimizers_2d: --seed expects an integer, got 'x'"
expect 2 newton --out
one_line "^newton: --out needs a value"
[ -e "$dir/o1" ] && fail "an output folder was made before the options were checked"

# Runtime failures: exit 1, one line.
expect 1 airfoil --data "$dir/missing"
one_line "^airfoil: error: .*missing.* not found"
expect 1 lenet_cifar10 --data="$dir/missing"
one_line "^lenet_cifar10: error: load_cifar10: $dir/missing: no such directory"
expect 1 fashion_mnist --data="$dir/missing"
one_line "^fashion_mnist: error: read_mnist: $dir/missing: no such directory"
expect 1 optimizers_2d --out "$dir/a-file/sub"
one_line "^optimizers_2d: error: .*a-file/sub"
expect 1 newton --out="$dir/a-file/sub"
one_line "^newton: error: .*a-file/sub"

# --name=value and --name value give the same run.
expect 0 newton --out "$dir/n1"
cp "$dir/out" "$dir/n1.log"
expect 0 newton --out="$dir/n2"
diff <(sed "s|$dir/n1|X|" "$dir/n1.log") <(sed "s|$dir/n2|X|" "$dir/out") > /dev/null ||
  fail "newton --out X and --out=X differ"
[ "$(ls "$dir/n2" | wc -l)" -eq 6 ] || fail "newton --out=DIR did not write its 6 plots there"

[ "$failures" -eq 0 ] && echo "cli smoke: ok"
[ "$failures" -eq 0 ]
