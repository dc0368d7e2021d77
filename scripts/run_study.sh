#!/usr/bin/env bash
# The main job from a fresh Debian 12 machine: installs what is missing, builds, gets the real
# MNIST digits, runs the demo sweep (jobs/demo.ini) under mpirun, analyses the archive and
# writes the report. Usage: scripts/run_study.sh [CONFIG.ini] [RANKS]
# Output: out/<config>.h5 (the archive) and out/<config>-report/index.html (the figures), in the
# repository. Run it again after an interruption: it resumes where it stopped. When CONFIG was
# edited since its archive was written, the old archive and report are kept under a dated name
# and the study starts afresh; a config of the same name in another directory gets its own
# out/<config>-XXXXXXXX.h5 (scripts/study_archive.sh). Relative paths (CONFIG, AESWEEP_DATA) are
# taken from the directory it is run in, but a relative data.dir inside CONFIG from the
# repository, where the steps run; AESWEEP_BUILD_DIR names another build directory (default build/).
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
absolute() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
repo=$(cd "$(dirname "$0")/.." && pwd)
config=$(absolute "${1:-$repo/jobs/demo.ini}")
# A relative CONFIG not found here but in the repository (jobs/...) is the repository's.
[ -f "$config" ] || [ -z "${1:-}" ] || case "$1" in /*) ;; *) [ -f "$repo/$1" ] && config="$repo/$1" ;; esac
[ -z "${AESWEEP_DATA:-}" ] || export AESWEEP_DATA="$(absolute "$AESWEEP_DATA")"
[ -f "$config" ] || { echo "run_study.sh: no config file $config" >&2; exit 2; }
cd "$repo"
ranks="${2:-$(getconf _NPROCESSORS_ONLN)}"
build="${AESWEEP_BUILD_DIR:-build}"
out="$PWD/out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1

# Each step runs as a child this script waits for, so that a TERM or INT sent to the script alone
# reaches the step's whole process tree too (make and its compilers, apt-get, mpirun, which passes
# it on to the ranks) instead of leaving it running. A step started in the background ignores INT,
# so both are passed on as TERM.
child=
kill_tree() {
  local p
  for p in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$p"; done
  kill -TERM "$1" 2>/dev/null || true
}
stop() {
  if [ -n "$child" ]; then
    kill_tree "$child"
    wait "$child" 2>/dev/null || true
  fi
  echo "run_study.sh: stopped; run the same command again to go on from where it stopped" >&2
  exit "$1"
}
trap 'stop 143' TERM
trap 'stop 130' INT
step() {
  "$@" &
  child=$!
  local status=0
  wait "$child" || status=$?
  child=
  return $status
}

step scripts/install_deps.sh
AESWEEP_BUILD_DIR="$build" step scripts/build.sh
step scripts/get_data.sh
mkdir -p "$out"
archive=$(scripts/study_archive.sh "$config" "$out" "$build/aesweep")
name=$(basename "$archive" .h5)
step mpirun -np "$ranks" --oversubscribe "$build/aesweep" sweep "$config" --out "$archive" --threads 1
step mpirun -np "$ranks" --oversubscribe "$build/analysis/aesweep-analyze" "$archive" --threads 1
step /usr/bin/python3 analysis/report.py "$archive" -o "$out/$name-report"
echo "archive: $archive"
echo "report:  $out/$name-report/index.html"
