#!/usr/bin/env bash
# The distributed checks, each under mpirun with 2 processes and a timeout (a hang is a failure):
# the doctest suites of tests/distributed/ (collectives, DistributedDataParallel, mismatched
# models), the failure policy (an exception on rank 1 ends the job with its message; a killed
# rank ends it with a non-zero exit), and lenet_cifar10 on generated CIFAR-10 files as 2
# processes (rank 0 alone logs and saves; 1 epoch + --resume under 2 processes equals 2 epochs
# straight; the checkpoint evaluates the same in 1 process). One line per check:
# "distributed: <check>: ok|FAILED" (scripts/test.sh counts them), or one "skipped" line when
# tapegrad was built without MPI.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build}
tests="$build/tests/distributed/tapegrad_distributed_tests"
if [ ! -x "$tests" ]; then
  echo "distributed: skipped: $build was configured without MPI (install libopenmpi-dev and openmpi-bin, then meson setup --reconfigure $build)"
  exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
# --oversubscribe: 2 processes may share fewer cores; the mca option silences Open MPI's
# warning about a missing high-speed network.
mpi=(timeout 300 mpirun -np 2 --oversubscribe --mca btl_base_warn_component_unused 0)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
report() { if [ "$2" = 0 ]; then echo "distributed: $1: ok"; else tail -20 "$3"; echo "distributed: $1: FAILED"; fi; }

# 1. The doctest suites (each rank runs them; the job fails if any rank failed).
"${mpi[@]}" "$tests" --no-version --no-colors=true >"$dir/suites.log" 2>&1
rc=$?
cases=$(sed -n 's/^\[doctest\] test cases: *\([0-9]*\) |.*/\1/p' "$dir/suites.log" | head -1)
report "doctest suites (mpirun -np 2, ${cases:-no} test cases on each rank)" $rc "$dir/suites.log"

# 2. Failure policy: never a hang (timeout's 124), always a non-zero exit.
fails=$build/tests/distributed/distributed_failure
"${mpi[@]}" "$fails" ok >"$dir/ok.log" 2>&1
[ $? = 0 ] && grep -q 'all ranks finished, sum 16' "$dir/ok.log"
report "all ranks finish (control)" $? "$dir/ok.log"
"${mpi[@]}" "$fails" throw >"$dir/throw.log" 2>&1
rc=$?
[ $rc != 0 ] && [ $rc != 124 ] && grep -q 'rank 1: error: rank 1 failed on purpose' "$dir/throw.log"
report "an exception on rank 1 aborts the job with its message (exit $rc)" $? "$dir/throw.log"
"${mpi[@]}" "$fails" kill >"$dir/kill.log" 2>&1
rc=$?
[ $rc != 0 ] && [ $rc != 124 ]
report "a killed rank ends the job (exit $rc)" $? "$dir/kill.log"
timeout 60 "$fails" lifecycle >"$dir/lifecycle.log" 2>&1 &&
  grep -q '^rank: MPI is not initialized; hint: create a distributed::Environment first' "$dir/lifecycle.log" &&
  grep -q '^Environment: MPI was already finalized and cannot be started again' "$dir/lifecycle.log"
report "MPI used before it starts or after it ends: tg::Error" $? "$dir/lifecycle.log"

# 3. The CIFAR-10 example as 2 processes, on generated files (the format of tests/smoke/lenet.sh).
bin="$build/examples/lenet_cifar10"
if [ ! -x "$bin" ]; then
  echo "distributed: lenet_cifar10 checks skipped: $build has no examples (-Dexamples=disabled)"
  exit 0
fi
data="$dir/cifar-10-batches-bin"
mkdir -p "$data"
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
        --print-every 5 --seed 3)
accuracy() { sed -n 's/^accuracy of the network on the 100 test images: \(.*\)$/\1/p' "$1"; }
"${mpi[@]}" "$bin" "${common[@]}" --epochs 2 --out "$dir/a" >"$dir/a.log" 2>&1
rc=$?
# 200 images, 100 a process: 10 batches each (mpirun's output is a terminal, so the bar
# redraws); one summary per epoch (rank 0 only); one checkpoint.
[ $rc = 0 ] && [ "$(grep -c '^epoch [12]/2: train loss' "$dir/a.log")" = 2 ] &&
  grep -q 'epoch 2/2: 100%|██████████| 10/10 ' "$dir/a.log" &&
  [ -s "$dir/a/lenet_cifar10.safetensors" ] && [ "$(wc -l < "$dir/a/lenet_cifar10.csv")" = 3 ] &&
  [ -n "$(accuracy "$dir/a.log")" ]
report "lenet_cifar10 as 2 processes: rank 0 logs and saves once" $? "$dir/a.log"
"${mpi[@]}" "$bin" "${common[@]}" --epochs 1 --out "$dir/b" >"$dir/b.log" 2>&1 &&
  "${mpi[@]}" "$bin" --resume "$dir/b/lenet_cifar10.safetensors" --epochs 2 --data "$dir" \
    --out "$dir/b" >"$dir/b2.log" 2>&1
rc=$?
[ $rc = 0 ] && grep -q '^checkpoint: .* (after epoch 1, 10 steps)' "$dir/b2.log" &&
  [ "$(accuracy "$dir/b2.log")" = "$(accuracy "$dir/a.log")" ]
report "lenet_cifar10: 1 epoch + --resume as 2 processes equals 2 epochs straight" $? "$dir/b2.log"
OMP_NUM_THREADS=1 timeout 300 "$bin" --eval-only "$dir/a/lenet_cifar10.safetensors" --data "$dir" \
  --out "$dir/c" >"$dir/c.log" 2>&1
rc=$?
[ $rc = 0 ] && [ "$(accuracy "$dir/c.log")" = "$(accuracy "$dir/a.log")" ]
report "lenet_cifar10: the 2-process checkpoint evaluates the same in 1 process" $? "$dir/c.log"
