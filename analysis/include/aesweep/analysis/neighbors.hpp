#pragma once
// Exact k nearest neighbours (Euclidean) by blocked GEMM, no N x N matrix.
#include <Eigen/Core>

namespace aesweep::analysis {

struct KnnOptions {
  int threads = 1;
  void validate() const;
};

// Column i lists the k nearest other points of point i (self excluded), nearest first;
// ties are broken by the smaller index. Squared distances are recomputed exactly (double)
// for the selected neighbours.
struct KnnResult {
  Eigen::MatrixXi indices;            // k x n
  Eigen::MatrixXf squared_distances;  // k x n
};

// points: dims x n, one point per column. Requires 0 <= k < n and finite values
// (throws AnalysisError otherwise).
KnnResult exact_knn(const Eigen::MatrixXf& points, int k, const KnnOptions& opts = {});

}  // namespace aesweep::analysis
