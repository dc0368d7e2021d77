#!/usr/bin/env bash
# One prepared benchmark pass on a many-core machine that has none of aesweep's dependencies,
# from the bundle of scripts/device_bundle.sh (docs/device-benchmarks.md). Run from the
# repository root: bash bench/device_run.sh [BUNDLE_TARBALL]
# It unpacks the bundle to /tmp/aeb (where its binaries expect it), then, each step under its own
# timeout inside a total wall budget (BUDGET seconds, default 370), in this order:
#   machine    lscpu, nproc, the CPU flags, torch's version
#   smoke      a 2-rank MPI job (binding to cores, or none if the machine refuses binding)
#   gemm       gemm_backends --rounds 3 --hidden 196 (sgemm/bf16 per library at the model's shapes)
#   single     aesweep train of bench/reference.ini (10 epochs, one thread), fp32 and bf16, against
#              bench/torch_train.py fp32 and --bf16, interleaved, ROUNDS rounds
#   overhead   coordinator_overhead 20000 at 2..CORES ranks
#   tiny       a sweep of 400 near-empty runs at 1, 2, 4, ..., CORES ranks (coordination cost)
#   scaling    a sweep of 96 uneven runs (hidden 64/256/1024) at CORES, ..., 2, 1 ranks
#   determinism the scaling archives compared run by run (weights, codes, curves): same bits at
#              every rank count
#   full       CORES single-threaded aesweep ranks vs CORES single-threaded PyTorch processes, fp32
#              and bf16 (like bench/train_throughput.sh)
#   hidden     hidden 16, 64 and 1568 on one rank, fp32, against PyTorch fp32 (one round each)
#   smt        the CPU siblings the kernel reports, and a pair scan: aesweep train pinned to the
#              first allowed cpu ("cpu0" in the records), alone and beside a copy on each other
#              allowed cpu j (PyTorch on the worst and the best pair)
# STEPS (default: all of gemm single overhead tiny scaling full hidden smt) picks the steps after smoke;
# FULL_ROUNDS (default 1) repeats the full step; FULL_RANKS (default: every core) lists its rank counts.
# Everything goes to $OUT (or /tmp/device-out): log.txt (all output), results.jsonl (one JSON
# line per measurement), gemm.md, machine.txt. A failed or skipped step is recorded and the run
# goes on.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
T0=$(date +%s)
BUDGET=${BUDGET:-370}
ROUNDS=${ROUNDS:-2}
FULL_ROUNDS=${FULL_ROUNDS:-1}
# The steps to run after machine and smoke (all by default): a second pass can repeat a few.
STEPS=${STEPS:-gemm single overhead tiny scaling full hidden smt}
want() { [[ " $STEPS " == *" $1 "* ]]; }
out=${OUT:-/tmp/device-out}
mkdir -p "$out"
exec > >(tee -a "$out/log.txt") 2>&1
res=$out/results.jsonl
PY=${PYTHON:-python3}
tarball=${1:-.devbundle/carry/aeb.tar.xz}
aeb=/tmp/aeb

left() { echo $((T0 + BUDGET - $(date +%s))); }
say() { echo "== [$(($(date +%s) - T0))s] $*"; }
record() { echo "$1" >> "$res"; echo "$1"; }
# run_step NAME MAX_SECONDS CMD...: CMD under a timeout of min(MAX, time left - 5); skipped under 10 s
run_step() {
  local name=$1 max=$2; shift 2
  local t=$(($(left) - 5)); [ "$t" -gt "$max" ] && t=$max
  if [ "$t" -lt 10 ]; then
    record "{\"step\": \"$name\", \"skipped\": \"out of time budget\"}"; return 99
  fi
  timeout -k 5 "$t" "$@"
  local rc=$?
  if [ $rc -ne 0 ]; then
    local why="exit $rc"
    [ $rc -eq 124 ] && why="timed out after $t s"
    [ $rc -eq 132 ] && why="SIGILL: an instruction this CPU lacks"
    [ $rc -eq 2 ] && why="exit 2 (a binary built for other CPUs says so at start: cannot run on this CPU)"
    record "{\"step\": \"$name\", \"failed\": \"$why\"}"
  fi
  return $rc
}

say "unpacking $tarball to $aeb"
if [ ! -x $aeb/bin/aesweep ]; then
  $PY -c "import tarfile, sys; tarfile.open(sys.argv[1]).extractall('/tmp')" "$tarball" || { echo "cannot unpack"; exit 1; }
fi
nproc_raw=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
# shellcheck disable=SC1091
. $aeb/env.sh
cores=$(getconf _NPROCESSORS_ONLN)
data=$AESWEEP_DATA

say "machine"
{
  lscpu; echo; echo "nproc: $nproc_raw  getconf _NPROCESSORS_ONLN: $cores"; grep -m1 '^flags' /proc/cpuinfo
  uname -a; free -g 2>/dev/null; ldd --version 2>/dev/null | head -1; cat /etc/os-release 2>/dev/null | head -2
  $PY -c "import torch; c = getattr(torch.backends, 'cpu', None); print('torch', torch.__version__, 'threads', torch.get_num_threads(), c.get_cpu_capability() if c else '')"
} 2>&1 | tee "$out/machine.txt"
model=$(lscpu | sed -n 's/^Model name: *//p')
# The AVX-512 (x86-64-v4) build where the CPU has every flag it may use, else the portable one.
bin=$aeb/bin variant=portable
flags=$(grep -m1 '^flags' /proc/cpuinfo)
if [ -x $aeb/bin/v4/aesweep ]; then
  v4ok=1
  for f in avx512f avx512bw avx512cd avx512dq avx512vl avx2 bmi2 fma movbe; do
    [[ " $flags " == *" $f "* ]] || v4ok=0
  done
  [ $v4ok = 1 ] && bin=$aeb/bin/v4 variant=x86-64-v4
fi
say "aesweep and gemm_backends: the $variant build ($bin)"
record "$($PY -c 'import json,sys; print(json.dumps({"step": "machine", "cpu": sys.argv[1], "cores": int(sys.argv[2]), "avx512_bf16": "avx512_bf16" in open("/proc/cpuinfo").read(), "amx_bf16": "amx_bf16" in open("/proc/cpuinfo").read(), "build": sys.argv[3]}))' "$model" "$cores" "$variant")"

say "smoke: 2-rank MPI job"
BIND="--bind-to core"
if ! run_step smoke 40 mpirun -np 2 $BIND $aeb/bin/coordinator_overhead 1000; then
  BIND="--bind-to none"
  say "retrying without binding"
  run_step smoke_nobind 40 mpirun -np 2 $BIND $aeb/bin/coordinator_overhead 1000 || say "MPI does not start; MPI steps will fail"
fi
record "{\"step\": \"binding\", \"mpirun_option\": \"$BIND\"}"

if want gemm; then
  say "gemm_backends --rounds 3 --hidden 196"
  run_step gemm 100 $bin/gemm_backends --rounds 3 --hidden 196 > "$out/gemm.md"
  cat "$out/gemm.md"
fi

# ---- one rank: aesweep train vs PyTorch, fp32 and bf16, interleaved
train_one() {  # precision round [binary-dir impl-name]
  local o dir=${3:-$bin} impl=${4:-aesweep}
  o=$(run_step "train_$1" 60 $dir/aesweep train bench/reference.ini --data "$data" --quiet \
        --set train.seed="$2" --set train.precision="$1" --threads 1) || { echo "$o"; return; }
  record "$($PY -c '
import json, sys
kv = dict(l.split(None, 1) for l in sys.argv[3].splitlines() if len(l.split(None, 1)) == 2)
print(json.dumps({"step": "single", "impl": sys.argv[4], "precision": sys.argv[1], "round": int(sys.argv[2]),
                  "samples_per_second": float(kv["samples_per_second"]), "test_mse": float(kv["test_mse"])}))' "$1" "$2" "$o" "$impl")"
}
torch_one() {  # precision round
  local flag=() o
  [ "$1" = bf16 ] && flag=(--bf16)
  o=$(run_step "torch_$1" 90 $PY bench/torch_train.py --data "$data" --seed "$2" "${flag[@]}") || { echo "$o"; return; }
  record "$($PY -c 'import json, sys; r = json.loads(sys.argv[3].strip().splitlines()[-1]); r.update(step="single", round=int(sys.argv[2])); print(json.dumps(r))' "$1" "$2" "$o")"
}
want single && for round in $(seq 1 "$ROUNDS"); do
  say "single rank, round $round"
  for p in fp32 bf16; do train_one $p "$round"; done
  # the portable build beside the tuned one: what SSE2-only elementwise code costs
  [ "$variant" = portable ] || for p in fp32 bf16; do train_one $p "$round" $aeb/bin aesweep-portable; done
  for p in fp32 bf16; do torch_one $p "$round"; done
done

# ---- coordinator cost with instant runs
want overhead && for r in 2 4 8 16 32; do
  [ "$r" -le "$cores" ] || continue
  say "coordinator_overhead 20000 at $r ranks"
  o=$(run_step "overhead_$r" 40 mpirun -np "$r" $BIND $aeb/bin/coordinator_overhead 20000) && echo "$o" &&
    record "$($PY -c 'import json, sys; r = json.loads(sys.argv[1].strip().splitlines()[-1]); r["step"] = "overhead"; print(json.dumps(r))' "$o")"
done

# ---- sweeps: wall time per study and rank count
work=$(mktemp -d)
cat > "$work/tiny.ini" <<'INI'
# 400 runs that take almost no time: what is left is the coordination.
[model]
hidden = 8
[train]
epochs = 1
batch_size = 100
[sweep.tiny]
train.seed = linspace(1, 400, 400)
INI
cat > "$work/scaling.ini" <<'INI'
# 96 runs of uneven cost (about 1:2:7 by hidden size), like a real sweep.
[train]
epochs = 3
batch_size = 128
[sweep.sizes]
model.hidden = 64, 256, 1024
reg.l1_activity = 0, 1e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3
train.seed = 1, 2, 3, 4
INI
sweep() {  # study ranks max_seconds extra-args...
  local study=$1 r=$2 max=$3; shift 3
  say "sweep $study at $r ranks"
  local start end
  start=$(date +%s.%N)
  run_step "${study}_$r" "$max" mpirun -np "$r" --oversubscribe $BIND $bin/aesweep sweep "$work/$study.ini" \
    --out "$work/$study-$r.h5" --quiet --data "$data" "$@" || return
  end=$(date +%s.%N)
  record "$($PY - "$work/$study-$r.h5" "$r" "$start" "$end" "$study" "${ROUND:-1}" <<'PY'
import json, sys, h5py, numpy as np
path, ranks, wall, study = sys.argv[1], int(sys.argv[2]), float(sys.argv[4]) - float(sys.argv[3]), sys.argv[5]
s = h5py.File(path, "r")["summary"][:]
train = float(s["wall_seconds"].sum())
print(json.dumps({"step": "sweep", "study": study, "ranks": ranks, "round": int(sys.argv[6]), "runs": len(s), "wall_seconds": round(wall, 2),
                  "runs_per_hour": round(len(s) / wall * 3600), "run_seconds_summed": round(train, 2),
                  "overhead_per_run_ms": round((wall * ranks - train) / len(s) * 1000, 2),
                  "samples_per_second_mean": round(float(np.mean(s["samples_per_second"]))),
                  "samples_per_second_summed_over_ranks": round(sum(float(np.mean(s["samples_per_second"][s["rank"] == k]))
                                                                   for k in np.unique(s["rank"]))),
                  "test_mse_mean": float(np.mean(s["test_mse"]))}))
PY
)"
}
if want tiny; then
  r=1; while [ "$r" -le "$cores" ]; do sweep tiny "$r" 40 --train-samples 2000 --test-samples 500; r=$((r * 2)); done
fi
ranks=(); r=1; while [ "$r" -le "$cores" ]; do ranks=("$r" "${ranks[@]}"); r=$((r * 2)); done
if want scaling; then
for r in "${ranks[@]}"; do sweep scaling "$r" 150; done
# The same study at every rank count must give the same bits (issue 11: -np 1 and -np N identical).
say "determinism: the scaling archives compared run by run"
$PY - "$work" "${ranks[@]}" <<'PY' | tee -a "$res"
import json, os, sys, h5py, numpy as np
work, ranks = sys.argv[1], [int(r) for r in sys.argv[2:]]
files = {r: f"{work}/scaling-{r}.h5" for r in ranks if os.path.exists(f"{work}/scaling-{r}.h5")}
fields = ("encoder_kernel", "encoder_bias", "decoder_kernel", "decoder_bias", "latent_test", "train_loss", "test_loss")
# Only runs complete in both archives are compared: a sweep stopped by its timeout leaves pending ones.
done = lambda f: {i for i, s in enumerate(f["runs_state"][()]) if s == 1}
out = {"step": "determinism", "ranks_compared": sorted(files), "runs": 0, "differing": []}
if len(files) >= 2:
    ref_r = min(files)
    with h5py.File(files[ref_r], "r") as ref:
        names = sorted(ref["runs"])
        ref_done = done(ref)
        out["runs"] = len(names)
        for r, path in sorted(files.items()):
            if r == ref_r:
                continue
            with h5py.File(path, "r") as other:
                both = ref_done & done(other)
                out.setdefault("compared", {})[r] = len(both)
                for n in names:
                    if int(n) not in both:
                        continue
                    for f in fields:
                        a, b = ref["runs"][n][f][()], other["runs"][n][f][()]
                        if a.tobytes() != b.tobytes():
                            out["differing"].append(f"{r} ranks: run {n} {f}")
out["identical"] = len(files) >= 2 and not out["differing"] and all(v > 0 for v in out.get("compared", {}).values())
out["differing"] = out["differing"][:20]
print(json.dumps(out))
PY
fi

# ---- all cores: CORES aesweep ranks against CORES PyTorch processes
for p in fp32 bf16; do
  cp bench/reference.ini "$work/full_$p.ini"
done
want full && for round in $(seq 1 "$FULL_ROUNDS"); do for n in ${FULL_RANKS:-$cores}; do for p in fp32 bf16; do
  rm -f "$work/full_$p-$n.h5" "$work"/torch-$p.*.json
  ROUND=$round sweep "full_$p" "$n" 90 --set "train.seed=$(seq -s, 1 $((2 * n)))" --set "train.precision=$p"
  say "pytorch $p, $n single-threaded processes, round $round"
  flag=(); [ "$p" = bf16 ] && flag=(--bf16)
  t=$(($(left) - 5)); [ "$t" -gt 120 ] && t=120
  if [ "$t" -lt 10 ]; then record "{\"step\": \"full_torch_$p\", \"skipped\": \"out of time budget\"}"; continue; fi
  pids=()
  for i in $(seq 1 "$n"); do
    timeout -k 5 "$t" $PY bench/torch_train.py --data "$data" --seed "$i" "${flag[@]}" > "$work/torch-$p.$i.json" & pids+=($!)
  done
  for q in "${pids[@]}"; do wait "$q"; done
  record "$($PY - "$work" "$p" "$round" "$n" <<'PY'
import glob, json, sys
rows = []
for f in sorted(glob.glob(f"{sys.argv[1]}/torch-{sys.argv[2]}.*.json")):
    try:
        rows.append(json.loads(open(f).read().strip().splitlines()[-1]))
    except Exception:
        pass
# processes: those started; finished: those whose result could be read (a round counts only when
# every one finished)
print(json.dumps({"step": "full_torch", "precision": sys.argv[2], "round": int(sys.argv[3]),
                  "processes": int(sys.argv[4]) if len(rows) == int(sys.argv[4]) else 0, "finished": len(rows),
                  "samples_per_second_summed": round(sum(r["samples_per_second"] for r in rows)),
                  "without_test_curve_summed": round(sum(r["samples_per_second_without_test_curve"] for r in rows)),
                  "test_mse": sum(r["test_mse"] for r in rows) / max(1, len(rows))}))
PY
)"
done; done; done

# ---- other hidden sizes, one rank, fp32: aesweep against PyTorch's bare loop (one round each)
want hidden && for h in 16 64 1568; do
  say "hidden $h, single rank"
  o=$(run_step "train_h$h" 90 $bin/aesweep train bench/reference.ini --data "$data" --quiet \
        --set train.seed=1 --set train.epochs=5 --set model.hidden=$h --threads 1) || continue
  record "$($PY -c '
import json, sys
kv = dict(l.split(None, 1) for l in sys.argv[2].splitlines() if len(l.split(None, 1)) == 2)
print(json.dumps({"step": "hidden", "impl": "aesweep", "hidden": int(sys.argv[1]),
                  "samples_per_second": float(kv["samples_per_second"]), "test_mse": float(kv["test_mse"])}))' "$h" "$o")"
  o=$(run_step "torch_h$h" 120 $PY bench/torch_train.py --data "$data" --seed 1 --epochs 5 --hidden $h) || continue
  record "$($PY -c 'import json, sys; r = json.loads(sys.argv[2].strip().splitlines()[-1]); r.update(step="hidden", hidden=int(sys.argv[1])); print(json.dumps(r))' "$h" "$o")"
done

# ---- which vCPUs share a core. On the Intel device aesweep's rate per rank fell 26% from 1 to 16
# ranks while PyTorch's stayed flat (issue 11); if the 16 vCPUs are 8 cores' hyperthread pairs,
# aesweep, which keeps the FMA units busier, loses more to its sibling. Recorded: the siblings the
# kernel reports, then a pair scan: `aesweep train` pinned to the first allowed cpu alone and beside a
# second copy pinned to cpu j, for every other allowed j; PyTorch the same on the pair where aesweep lost most and on the
# one where it lost least. A VM may hide its topology; the scan does not depend on it.
smt_rate() {  # impl output-file: samples/s of one finished process
  $PY - "$1" "$2" <<'PY'
import json, sys
text = open(sys.argv[2]).read()
if sys.argv[1] == "aesweep":
    kv = dict(l.split(None, 1) for l in text.splitlines() if len(l.split(None, 1)) == 2)
    print(float(kv["samples_per_second"]))
else:
    print(json.loads(text.strip().splitlines()[-1])["samples_per_second_without_test_curve"])
PY
}
smt_pair() {  # impl cpu0 j (j empty: cpu0 alone)
  local impl=$1 c0=$2 j=$3 cmd p0 pj= a b=null t ok=1
  if [ "$impl" = aesweep ]; then
    cmd=($bin/aesweep train bench/reference.ini --data "$data" --quiet --set train.seed=1 --set train.epochs=20 --threads 1)
  else
    cmd=($PY bench/torch_train.py --data "$data" --seed 1 --epochs 20)
  fi
  t=$(($(left) - 5)); [ "$t" -gt 60 ] && t=60
  if [ "$t" -lt 10 ]; then record "{\"step\": \"smt\", \"skipped\": \"out of time budget\"}"; return 1; fi
  timeout -k 5 "$t" taskset -c "$c0" "${cmd[@]}" > "$work/smt0.txt" 2> "$work/smt0.err" & p0=$!
  if [ -n "$j" ]; then timeout -k 5 "$t" taskset -c "$j" "${cmd[@]}" > "$work/smtj.txt" 2> "$work/smtj.err" & pj=$!; fi
  wait "$p0" || ok=0
  local okj=1
  if [ -n "$pj" ]; then wait "$pj" || okj=0; fi  # both have ended before the next pair starts
  if [ $ok = 1 ]; then a=$(smt_rate "$impl" "$work/smt0.txt") || ok=0; fi
  if [ $ok = 0 ]; then
    record "$($PY -c 'import json, sys; print(json.dumps({"step": "smt", "impl": sys.argv[1], "failed": "cpu " + sys.argv[2] + " run beside " + (sys.argv[3] or "none"), "stderr": open(sys.argv[4], errors="replace").read()[-300:]}))' "$impl" "$c0" "$j" "$work/smt0.err")"
    return 1
  fi
  if [ -n "$pj" ] && [ $okj = 1 ]; then b=$(smt_rate "$impl" "$work/smtj.txt") || b=null; fi
  record "{\"step\": \"smt\", \"impl\": \"$impl\", \"cpu0\": $c0, \"with_cpu\": ${j:-null}, \"cpu0_samples_per_second\": $a, \"other_samples_per_second\": $b}"
}
if want smt; then
  say "smt: sibling lists and a pair scan from the first allowed cpu"
  sib=$(for c in /sys/devices/system/cpu/cpu[0-9]*; do printf '%s:%s ' "${c##*/cpu}" "$(cat "$c/topology/thread_siblings_list" 2>/dev/null)"; done)
  record "{\"step\": \"smt_topology\", \"siblings\": \"${sib% }\"}"
  if ! command -v taskset > /dev/null; then
    record '{"step": "smt", "skipped": "no taskset"}'
  else
    # The CPUs this process may use (a container's cpuset need not start at 0 or be contiguous).
    allowed=()
    read -r -a allowed < <($PY -c 'import os; print(*sorted(os.sched_getaffinity(0)))') || true
    [ ${#allowed[@]} -gt 0 ] || allowed=(0)
    c0=${allowed[0]}
    smt_pair aesweep "$c0" ""
    for j in "${allowed[@]:1}"; do smt_pair aesweep "$c0" "$j" || break; done
    read -r worst best < <($PY - "$res" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
pairs = {r["with_cpu"]: r["cpu0_samples_per_second"] for r in rows
         if r.get("step") == "smt" and r.get("impl") == "aesweep" and r.get("with_cpu") is not None}
print(min(pairs, key=pairs.get), max(pairs, key=pairs.get)) if pairs else print("", "")
PY
)
    smt_pair pytorch "$c0" ""
    [ -n "$worst" ] && smt_pair pytorch "$c0" "$worst"
    [ -n "$best" ] && [ "$best" != "$worst" ] && smt_pair pytorch "$c0" "$best"
  fi
fi

say "summary"
$PY - "$res" "$cores" <<'PY' | tee -a "$res"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
out = {"step": "summary"}
for study in ("scaling", "tiny"):
    s = {r["ranks"]: r for r in rows if r.get("step") == "sweep" and r.get("study") == study}
    if 1 in s:
        base = s[1]["runs_per_hour"]
        out[study + "_efficiency"] = {r: round(v["runs_per_hour"] / (r * base), 2) for r, v in sorted(s.items())}
single = {}
for r in rows:
    if r.get("step") == "single":
        key = r["impl"] + "_" + r["precision"]
        single.setdefault(key, []).append(r["samples_per_second"])
        if r["impl"] == "pytorch":
            single.setdefault(key + "_bare", []).append(r["samples_per_second_without_test_curve"])
med = {k: statistics.median(v) for k, v in single.items()}
out["single_medians"] = {k: round(v) for k, v in med.items()}
if "pytorch_fp32_bare" in med:
    for p in ("fp32", "bf16"):
        if "aesweep_" + p in med:
            out[f"single_aesweep_{p}_over_pytorch_fp32_bare"] = round(med["aesweep_" + p] / med["pytorch_fp32_bare"], 2)
        if "aesweep_" + p in med and f"pytorch_{p}_bare" in med:
            out[f"single_aesweep_{p}_over_pytorch_{p}_bare"] = round(med["aesweep_" + p] / med[f"pytorch_{p}_bare"], 2)
# N ranks against N processes: medians over the FULL_ROUNDS rounds, and each round's ratio
full, torch_full = {}, {}
for r in rows:
    if r.get("step") == "sweep" and r.get("study", "").startswith("full_"):
        full.setdefault((r["study"][5:], r["ranks"]), {})[r.get("round", 1)] = r["samples_per_second_summed_over_ranks"]
    if r.get("step") == "full_torch" and r.get("processes"):
        torch_full.setdefault((r["precision"], r["processes"]), {})[r.get("round", 1)] = r["without_test_curve_summed"]
cores = int(sys.argv[2])
for (p, n), ours in sorted(full.items()):
    label = "all_cores" if n == cores else f"{n}_ranks"
    out[f"{label}_aesweep_{p}_per_rank"] = round(statistics.median(ours.values()) / n)
    for q in sorted({"fp32", p}):
        theirs = torch_full.get((q, n))
        if theirs:
            out[f"{label}_aesweep_{p}_over_pytorch_{q}_bare"] = round(
                statistics.median(ours.values()) / statistics.median(theirs.values()), 2)
            out[f"{label}_aesweep_{p}_over_pytorch_{q}_bare_per_round"] = [
                round(ours[k] / theirs[k], 2) for k in sorted(ours) if k in theirs]
hid = {}
for r in rows:
    if r.get("step") == "hidden":
        hid.setdefault(r["hidden"], {})[r.get("impl", "pytorch")] = r
for h, d in sorted(hid.items()):
    if "aesweep" in d and "pytorch" in d:
        out[f"hidden_{h}_aesweep_fp32_over_pytorch_fp32_bare"] = round(
            d["aesweep"]["samples_per_second"] / d["pytorch"]["samples_per_second_without_test_curve"], 2)
for impl in ("aesweep", "pytorch"):
    smt = [r for r in rows if r.get("step") == "smt" and r.get("impl") == impl and "cpu0_samples_per_second" in r]
    alone = [r["cpu0_samples_per_second"] for r in smt if r["with_cpu"] is None]
    if alone:
        out[f"smt_{impl}_cpu0_rate_beside_cpu_j_over_alone"] = {
            r["with_cpu"]: round(r["cpu0_samples_per_second"] / alone[0], 2) for r in smt if r["with_cpu"] is not None}
det = [r for r in rows if r.get("step") == "determinism"]
if det:
    out["scaling_archives_identical_across_ranks"] = det[-1]["identical"]
print(json.dumps(out))
PY
say "done in $(($(date +%s) - T0)) s"
rm -rf "$work"
