#!/usr/bin/env bash
# Analysis speed and agreement, aesweep vs scikit-learn 1.2, on the same latent codes: the
# 10,000 test images of Fashion-MNIST encoded by a trained 784-196-784 model (silhouette,
# k-means k=10, t-SNE perplexity 30 with trustworthiness), then aesweep alone on all 70,000
# images (sklearn's exact silhouette would need the 70,000^2 distance matrix). t-SNE runs with
# the automatic method choice and again with FFT interpolation forced.
# Usage: bench/analysis_vs_sklearn.sh [THREADS]   (needs scripts/install_deps.sh --bench)
#   AESWEEP_BEFORE=path/to/an/older/analysis_speed also times that build on the same codes.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${AESWEEP_BUILD_DIR:-build}
threads=${1:-$(getconf _NPROCESSORS_ONLN)}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
# scikit-learn and numpy use OpenBLAS: let it pick its kernels for this CPU (this workplace forces Haswell).
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
fashion=/usr/share/datasets/fashion-mnist
work=${AESWEEP_BENCH_DIR:-/tmp/aesweep-bench}
before=${AESWEEP_BEFORE:-}
mkdir -p "$work"
if [ ! -s "$work/fashion.h5" ]; then
  $build/aesweep sweep bench/reference.ini --out "$work/fashion.h5" --data "$fashion" --train-samples 20000 \
    --set train.seed=1 --set train.epochs=10 --quiet
fi
lscpu | grep -E '^(Model name|CPU\(s\)|Thread|L2|L3)' || true
echo "== aesweep ($threads threads), 10,000 x 196"
$build/bench/analysis_speed "$work/fashion.h5" 0 --threads "$threads" | tee "$work/aesweep10k.json"
$build/bench/analysis_speed "$work/fashion.h5" 0 --threads "$threads" --skip-others --tsne-method fft
[ -n "$before" ] && { echo "== before: $before, 10,000 x 196"; "$before" "$work/fashion.h5" 0 --threads "$threads"; }
echo "== scikit-learn, 10,000 x 196"
/usr/bin/python3 bench/sklearn_analysis.py "$work/fashion.h5" 0 --compare "$work/aesweep10k.json"
echo "== aesweep ($threads threads), 70,000 x 196 (all of Fashion-MNIST through the same encoder)"
$build/bench/analysis_speed "$work/fashion.h5" 0 --threads "$threads" --all-data "$fashion"
$build/bench/analysis_speed "$work/fashion.h5" 0 --threads "$threads" --all-data "$fashion" --skip-others --tsne-method fft
[ -n "$before" ] && { echo "== before: $before, 70,000 x 196"; "$before" "$work/fashion.h5" 0 --threads "$threads" --all-data "$fashion"; }
exit 0
