#!/usr/bin/env bash
# The archive's cost: a 100-run sweep of 784-196-784 models (10,000 test codes each with
# Fashion-MNIST) - creation time, total write time against training time, size, and the size
# after gzip compression with h5repack (parallel HDF5 cannot write compressed data from one rank
# alone, so the sweep writes uncompressed and compression is a step after).
# Usage: bench/archive_write.sh [RANKS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${AESWEEP_BUILD_DIR:-build}
ranks=${1:-$(getconf _NPROCESSORS_ONLN)}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/hundred.ini" <<'INI'
[train]
epochs = 1
batch_size = 256
[sweep.hundred]
reg.l1_activity = linspace(0, 1e-4, 10)
reg.l2_kernel = linspace(0, 1e-4, 10)
INI
start=$(date +%s.%N)
mpirun -np "$ranks" --oversubscribe $build/aesweep sweep "$work/hundred.ini" --out "$work/hundred.h5" \
  --data /usr/share/datasets/fashion-mnist --train-samples 1000 --quiet
end=$(date +%s.%N)
start_zip=$(date +%s.%N)
h5repack --low=1 --high=1 -f GZIP=4 "$work/hundred.h5" "$work/hundred-gzip.h5"  # keeps the checksummed format
end_zip=$(date +%s.%N)
/usr/bin/python3 - "$work/hundred.h5" "$(/usr/bin/python3 -c "print($end - $start)")" "$(du -k --apparent-size "$work/hundred.h5" | cut -f1)" \
  "$(du -k "$work/hundred.h5" | cut -f1)" "$(du -k "$work/hundred-gzip.h5" | cut -f1)" "$(/usr/bin/python3 -c "print($end_zip - $start_zip)")" "$ranks" <<'PY'
import json, sys, h5py
path, wall, apparent_kb, disk_kb, gzip_kb, zip_s, ranks = sys.argv[1:8]
s = h5py.File(path, "r")["summary"][:]
train = float(s["wall_seconds"].sum())
print(json.dumps({"runs": len(s), "ranks": int(ranks), "sweep_wall_seconds": round(float(wall), 2),
                  "training_seconds_summed": round(train, 2),
                  "writes_and_setup_seconds_per_run": round((float(wall) * int(ranks) - train) / len(s), 3),
                  "size_mb": round(int(disk_kb) / 1024, 1), "apparent_size_mb": round(int(apparent_kb) / 1024, 1),
                  "gzip4_size_mb": round(int(gzip_kb) / 1024, 1), "h5repack_seconds": round(float(zip_s), 1)}))
PY
