#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: installs what is missing, gets the real
# MNIST digits, builds in Release and runs every test through ctest (MPI tests with 1 to 3 ranks),
# then the unit and MPI tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Environment:
#   AESWEEP_SKIP_SANITIZE=1  skip the sanitizer pass
#   AESWEEP_SLURM_TEST=1     also run the Slurm job scripts on a real single-node cluster
#                            (tests/e2e/slurm_test.sh; root; 8 to 11 minutes of requeue delays)
#   AESWEEP_FUZZ_SECONDS=N   also run each libFuzzer harness for N CPU seconds (clang-14; the
#                            stored fuzz corpus is replayed by every pass anyway: label fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
start=$SECONDS
scripts/install_deps.sh
scripts/get_data.sh
AESWEEP_BUILD_DIR=build scripts/build.sh
skip_labels=slurm
[ "${AESWEEP_SLURM_TEST:-0}" = 1 ] && skip_labels=none
(cd build && ctest --output-on-failure -j2 --timeout 900 -LE "$skip_labels")
# A skipped test (e.g. multihost without network-namespace privileges) says why in its output,
# which ctest shows only with -V: repeat those reasons here.
grep -h "SKIPPED" build/Testing/Temporary/LastTest.log 2>/dev/null | sort -u | sed 's/^/run_tests.sh: /' || true
echo "run_tests.sh: Release suite passed after $((SECONDS - start)) s"
if [ "${AESWEEP_SKIP_SANITIZE:-0}" != 1 ]; then
  # Built at -O1, without the benchmarks and the end-to-end tests. LeakSanitizer reports
  # OpenMPI's and HDF5's own one-time allocations; leaks are not the aim here. The end-to-end,
  # report and Slurm tests run the same code as the unit tests through more processes, and the
  # science tests (the papers' effects, trained on real digits) the same code for longer: this
  # pass leaves them out.
  AESWEEP_BUILD_DIR=build-sanitize scripts/build.sh -DAESWEEP_SANITIZE=ON -DAESWEEP_BUILD_BENCH=OFF \
    -DAESWEEP_E2E_TESTS=OFF
  (cd build-sanitize && ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j2 --timeout 1800 -LE "e2e|report|slurm|science")
  echo "run_tests.sh: sanitizer suite passed after $((SECONDS - start)) s"
fi
if [ -n "${AESWEEP_FUZZ_SECONDS:-}" ]; then
  # docs/fuzzing.md: libFuzzer builds in build-fuzz, each harness run in turn.
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DAESWEEP_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" -DAESWEEP_BUILD_BENCH=OFF -DAESWEEP_BUILD_ANALYSIS=OFF \
    -DAESWEEP_E2E_TESTS=OFF >/dev/null
  cmake --build build-fuzz -j"$(getconf _NPROCESSORS_ONLN)" --target fuzz_idx fuzz_config fuzz_cli fuzz_archive
  for harness in idx config cli archive; do tests/fuzz/run_fuzzer.sh "$harness" "$AESWEEP_FUZZ_SECONDS"; done
  echo "run_tests.sh: fuzzers ran ${AESWEEP_FUZZ_SECONDS} CPU s each after $((SECONDS - start)) s"
fi
