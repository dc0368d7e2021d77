#!/bin/sh
# OpenMPI's remote-launch agent for tests/e2e/multihost_test.sh, used in place of ssh
# (`mpirun --mca plm_rsh_agent tests/e2e/multihost_agent.sh`). OpenMPI runs it as
#   multihost_agent.sh [OPTIONS...] HOST COMMAND...
# just as it would run `ssh HOST COMMAND...`; instead of logging into HOST, it enters HOST's
# network namespace ($AESWEEP_MH_PREFIX$HOST, made by the test), gives the process a UTS
# namespace of its own whose host name is HOST, and runs COMMAND there through sh, with the
# small environment an ssh login would have. The network namespace is the "host": its own
# interfaces, addresses and loopback, reached from the others only over its veth.
set -eu
while [ $# -gt 0 ]; do
  case $1 in
    -*) shift ;;  # ssh-style options (OpenMPI passes none to a custom agent today)
    *) break ;;
  esac
done
[ $# -ge 2 ] || { echo "multihost_agent.sh: usage: HOST COMMAND..." >&2; exit 255; }
host=$1
shift
prefix=${AESWEEP_MH_PREFIX:?multihost_agent.sh: AESWEEP_MH_PREFIX is not set}
ns=$prefix$host
if ! ip netns list | grep -q "^$ns\\b"; then
  echo "multihost_agent.sh: no network namespace $ns for host $host" >&2
  exit 255
fi
# The remote command is one shell command line, as ssh would hand it to the login shell.
exec ip netns exec "$ns" unshare --uts -- \
  env -i PATH="$PATH" HOME="${HOME:-/root}" USER="${USER:-root}" SHELL=/bin/sh \
  OMPI_ALLOW_RUN_AS_ROOT="${OMPI_ALLOW_RUN_AS_ROOT:-}" \
  OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-}" \
  AESWEEP_MH_PREFIX="$prefix" \
  sh -c 'hostname "$1" && shift && exec sh -c "$*"' multihost-login "$host" "$@"
