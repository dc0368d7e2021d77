#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: installs what is missing, gets the real
# MNIST digits, builds in Release and runs every test through ctest (MPI tests with 1 to 3 ranks).
# Then the same suite once more under AddressSanitizer + UndefinedBehaviorSanitizer
# (tests labelled slow excepted; skip it with AESWEEP_SKIP_SANITIZE=1).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
scripts/install_deps.sh
scripts/get_data.sh
AESWEEP_BUILD_DIR=build scripts/build.sh
(cd build && ctest --output-on-failure -j2 --timeout 900)
if [ "${AESWEEP_SKIP_SANITIZE:-0}" != 1 ]; then
  AESWEEP_BUILD_DIR=build-sanitize scripts/build.sh -DAESWEEP_SANITIZE=ON
  # LeakSanitizer reports OpenMPI's and HDF5's own one-time allocations; leaks are not the aim here.
  (cd build-sanitize && ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j2 --timeout 1800 -LE slow)
fi
