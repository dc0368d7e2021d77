#!/usr/bin/env bash
# Configures and builds aesweep into build/ (Release, -O3 -march=native).
# Extra arguments go to CMake, e.g. scripts/build.sh -DAESWEEP_NATIVE=OFF for a portable build.
# AESWEEP_BUILD_DIR names another build directory. Two builds of one directory at once take turns.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${AESWEEP_BUILD_DIR:-build}"
mkdir -p "$build_dir"
absolute_build_dir=$(cd "$build_dir" && pwd)
case "$absolute_build_dir" in
  *[[:space:]]*)
    echo "build.sh: the build directory $absolute_build_dir has a space in its path; Debian's HDF5" \
         "compiler wrapper (h5pcc), which CMake runs to find HDF5, cannot compile there. Set AESWEEP_BUILD_DIR" \
         "to a directory without spaces (e.g. AESWEEP_BUILD_DIR=/tmp/aesweep-build), or clone into such a path" >&2
    exit 2 ;;
esac
exec 9>"$build_dir/.build.lock"
if ! flock -n 9; then
  echo "build.sh: another build of $build_dir is running; waiting for it" >&2
  flock 9
fi
# A build killed by SIGKILL (the OOM killer, a job's time limit) can leave an empty object file or
# program newer than its sources, which make then takes as built: such files are removed first.
find "$build_dir" -type f -size 0 \( -name '*.o' -o -name '*.a' -o -name '*.so' -o -perm -u+x \) -delete
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build_dir" -j"$(getconf _NPROCESSORS_ONLN)"
