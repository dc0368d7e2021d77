#!/usr/bin/env bash
# The main job from a fresh Debian 12 machine: installs what is missing, builds, gets the real
# MNIST digits, runs the demo sweep (jobs/demo.ini) under mpirun, analyses the archive and
# writes the report. Usage: scripts/run_study.sh [CONFIG.ini] [RANKS]
# Output: out/<config>.h5 (the archive) and out/<config>-report/index.html (the figures).
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:-jobs/demo.ini}"
ranks="${2:-$(getconf _NPROCESSORS_ONLN)}"
name=$(basename "$config" .ini)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
scripts/install_deps.sh
AESWEEP_BUILD_DIR=build scripts/build.sh
scripts/get_data.sh
mkdir -p out
mpirun -np "$ranks" --oversubscribe build/aesweep sweep "$config" --out "out/$name.h5" --threads 1
mpirun -np "$ranks" --oversubscribe build/analysis/aesweep-analyze "out/$name.h5" --threads 1
/usr/bin/python3 analysis/report.py "out/$name.h5" -o "out/$name-report"
echo "archive: out/$name.h5"
echo "report:  out/$name-report/index.html"
