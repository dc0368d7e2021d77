#!/usr/bin/env bash
# Installs the Debian 12 packages aesweep needs, only those missing. Idempotent and quiet when
# everything is there. Usage: scripts/install_deps.sh [--bench] [--slurm]
# The default set includes oneDNN (libdnnl-dev, the default matrix-product backend, docs/benchmarks.md
# section 7) and FFTW (libfftw3-dev, t-SNE's FFT-interpolated forces); strace, iproute2 and qemu-user
# are for tests (qemu-user runs the build on an emulated older CPU: tests/e2e/cpu_check_test.cpp).
#   --bench  also the comparison stack (python3-torch, python3-sklearn, libopenblas0-pthread) and the other GEMM
#            libraries bench/gemm_backends measures (libopenblas-dev, libblis-dev, libxsmm-dev)
#   --slurm  also Slurm and munge for the single-node cluster test
set -euo pipefail
packages=(build-essential cmake pkg-config libopenmpi-dev openmpi-bin libeigen3-dev libhdf5-openmpi-dev
  hdf5-tools libboost-program-options-dev libgtest-dev zlib1g-dev python3-h5py python3-matplotlib python3-numpy
  python3-pytest npm dataset-fashion-mnist strace iproute2 libdnnl-dev libfftw3-dev qemu-user procps)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(python3-torch python3-sklearn libopenblas0-pthread libopenblas-dev libblis-dev libxsmm-dev) ;;
    --slurm) packages+=(slurm-wlm munge) ;;
    *) echo "install_deps.sh: unknown option '$arg' (--bench, --slurm)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
# npm may come from outside Debian (e.g. a Node.js install); then it need not be installed.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
