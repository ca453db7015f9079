#!/usr/bin/env bash
# Compares builds of tapegrad with the programs of the side-by-side benchmark (lenet_bench,
# airfoil_bench, micro_bench, resnet_bench): the portable default build against a -Dnative=true
# build, say, or a branch against main. Each round runs every program of every build at each
# thread setting, the builds taking turns in a rotating order (A B, then B A, ...) so that a
# busy minute on the machine does not always fall on the same build. Prints a markdown table of
# the medians over the rounds (each round's figure is itself the median of --repeats timed
# repeats), the spread of the rounds ((max - min) / median) and each build against the first,
# and the load average before and after.
#   bench/compare.sh NAME=BUILD_DIR NAME=BUILD_DIR... [--rounds N] [--repeats N]
#                    [--threads "1 2"] [--airfoil FILE] [--keep DIR] [--out FILE]
# e.g. bench/compare.sh native=/tmp/native/build portable=build --rounds 5
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
say() { echo "compare.sh: $*" >&2; }
die() { echo "compare.sh: $*" >&2; exit 2; }
usage="bench/compare.sh NAME=BUILD_DIR NAME=BUILD_DIR... [--rounds N] [--repeats N]"
usage+=" [--threads \"1 2\"] [--airfoil FILE] [--keep DIR] [--out FILE]"

rounds=5
repeats=5
threads_list="1 2"
airfoil="$root/datasets/airfoil_self_noise.dat"
keep=""
out=""
builds=()
need() { [ $# -ge 2 ] || die "$1 needs a value"; }
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 expects a positive integer, got '$2'"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) need "$@"; positive "$1" "$2"; rounds="$2"; shift ;;
    --repeats) need "$@"; positive "$1" "$2"; repeats="$2"; shift ;;
    --threads) need "$@"; threads_list="$2"; shift
      for t in $threads_list; do positive --threads "$t"; done ;;
    --airfoil) need "$@"; airfoil="$2"; shift ;;
    --keep) need "$@"; keep="$2"; shift ;;
    --out) need "$@"; out="$2"; shift ;;
    -h|--help) echo "usage: $usage"; exit 0 ;;
    *=*) builds+=("$1") ;;
    *) die "unknown option '$1' (usage: $usage)" ;;
  esac
  shift
done
[ ${#builds[@]} -ge 2 ] || die "needs at least two NAME=BUILD_DIR (usage: $usage)"
for b in "${builds[@]}"; do
  for program in lenet_bench airfoil_bench micro_bench resnet_bench; do
    [ -x "${b#*=}/bench/$program" ] ||
      die "${b#*=}/bench/$program is not built (ninja -C ${b#*=} bench/$program)"
  done
done
[ -f "$airfoil" ] || die "no airfoil table at '$airfoil' (scripts/fetch-data.sh airfoil)"

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
n=${#builds[@]}
loads=()
for ((round = 0; round < rounds; ++round)); do
  for ((k = 0; k < n; ++k)); do
    b="${builds[$(( (round + k) % n ))]}"  # rotate who goes first
    name="${b%%=*}" dir="${b#*=}"
    for t in $threads_list; do
      say "round $((round + 1))/$rounds: $name, $t thread(s)"
      for args in "lenet_bench --images 4096" "airfoil_bench --data $airfoil" "micro_bench" \
        "resnet_bench --images 512"; do
        # shellcheck disable=SC2086  # args is a program and its options
        set -- $args
        program="$1"; shift
        "$dir/bench/$program" --threads "$t" --repeats "$repeats" --json "$@" \
          >>"$results/$name.round$round.jsonl" || die "$dir/bench/$program failed"
      done
    done
  done
  loads+=("$(cut -d' ' -f1 /proc/loadavg)")
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
say "ran in $(( $(date +%s) - start )) s; load average before: $load_before, after: $load_after"

names=()
for b in "${builds[@]}"; do names+=("${b%%=*}"); done
/usr/bin/python3 "$root/bench/compare.py" --names "${names[@]}" \
  --info "rounds=$rounds, $repeats timed repeats per figure per round" \
  --info "load average (1, 5, 15 min) before: $load_before; after: $load_after" \
  --info "1-minute load average after each round: ${loads[*]}" \
  --results "$results" ${out:+--out "$out"}
if [ -n "$keep" ]; then
  mkdir -p "$keep" && cp "$results"/*.jsonl "$keep"/ && say "kept the JSON lines in $keep"
fi
