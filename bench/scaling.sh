#!/usr/bin/env bash
# Sweep scaling: runs per hour against the number of ranks, parallel efficiency, and the
# coordinator's overhead per run (wall time of a sweep of tiny runs minus their training time,
# per run). Usage: bench/scaling.sh [MAX_RANKS]   (default: the number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${AESWEEP_BUILD_DIR:-build}
max=${1:-$(getconf _NPROCESSORS_ONLN)}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/scaling.ini" <<'INI'
# 24 runs of uneven cost: hidden 16 to 256, like a real sweep.
[train]
epochs = 3
batch_size = 128
[sweep.sizes]
model.hidden = 16, 64, 256
reg.l1_activity = 0, 1e-5, 1e-4, 1e-3
train.seed = 1, 2
INI
cat > "$work/tiny.ini" <<'INI'
# 200 runs that take almost no time: what is left is the coordination.
[model]
hidden = 8
[train]
epochs = 1
batch_size = 100
[sweep.tiny]
train.seed = linspace(1, 200, 200)
INI
summarize() {
  /usr/bin/python3 - "$@" <<'PY'
import json, sys, h5py
path, ranks, wall = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = h5py.File(path, "r")["summary"][:]
train = float(s["wall_seconds"].sum())
print(json.dumps({"archive": path.rsplit("/", 1)[-1], "ranks": ranks, "runs": len(s), "wall_seconds": round(wall, 2),
                  "runs_per_hour": round(len(s) / wall * 3600), "run_seconds_summed": round(train, 2),
                  "overhead_per_run_ms": round((wall * ranks - train) / len(s) * 1000, 2)}))
PY
}
for ranks in $(seq 1 "$max"); do
  for study in scaling tiny; do
    start=$(date +%s.%N)
    mpirun -np "$ranks" --oversubscribe $build/aesweep sweep "$work/$study.ini" --out "$work/$study-$ranks.h5" \
      --train-samples 2000 --test-samples 500 --quiet
    end=$(date +%s.%N)
    summarize "$work/$study-$ranks.h5" "$ranks" "$(/usr/bin/python3 -c "print($end - $start)")"
  done
done
