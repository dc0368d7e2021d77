#!/usr/bin/env bash
# Configures and builds aesweep into build/ (Release, -O3 -march=native).
# Extra arguments go to CMake, e.g. scripts/build.sh -DAESWEEP_NATIVE=OFF for a portable build.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${AESWEEP_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build_dir" -j"$(getconf _NPROCESSORS_ONLN)"
