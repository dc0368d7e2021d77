#!/usr/bin/env bash
# Starts (or stops) a real single-node Slurm cluster on localhost with Debian's slurm-wlm and
# munge, for the Slurm tests. Usage: scripts/slurm_cluster.sh start|stop|status
# Its config and state live under ${AESWEEP_SLURM_DIR:-/tmp/aesweep-slurm}; export
# SLURM_CONF=$AESWEEP_SLURM_DIR/slurm.conf to talk to it. Needs root.
set -euo pipefail
dir=${AESWEEP_SLURM_DIR:-/tmp/aesweep-slurm}
conf=$dir/slurm.conf
export SLURM_CONF=$conf

start() {
  for p in slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || \
      { echo "slurm_cluster.sh: package $p is missing (scripts/install_deps.sh --slurm)" >&2; exit 1; }
  done
  mkdir -p "$dir/state" "$dir/spool" "$dir/log" /run/munge
  chown munge:munge /run/munge 2>/dev/null || true
  if ! pgrep -x munged >/dev/null; then
    [ -s /etc/munge/munge.key ] || { dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; \
      chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
    runuser -u munge -- /usr/sbin/munged || /usr/sbin/munged --force
  fi
  local cpus mem
  cpus=$(getconf _NPROCESSORS_ONLN)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
  cat > "$conf" <<CONF
ClusterName=aesweep-test
SlurmctldHost=localhost
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ReturnToService=2
MpiDefault=none
JobRequeue=1
KillWait=10
MinJobAge=600
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
  echo "# No cgroups on this test node." > "$dir/cgroup.conf"
  pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld -f "$conf"
  pgrep -x slurmd >/dev/null || /usr/sbin/slurmd -f "$conf"
  for _ in $(seq 1 30); do
    if sinfo -h -o %T 2>/dev/null | grep -qE "idle|mixed|alloc"; then
      echo "slurm cluster up: $(sinfo -h -o '%P %D %T %c')"
      return 0
    fi
    sleep 1
  done
  echo "slurm_cluster.sh: the node did not come up; logs in $dir/log" >&2
  tail -5 "$dir/log/"*.log >&2 || true
  exit 1
}

stop() {
  pkill -x slurmd 2>/dev/null || true
  pkill -x slurmctld 2>/dev/null || true
  sleep 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) sinfo; squeue ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
