#pragma once
// Exact Euclidean silhouette score, as sklearn.metrics.silhouette_score.
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace aesweep::analysis {

struct SilhouetteOptions {
  // 0: use every point. Otherwise a uniformly random subset of this size (drawn with
  // `seed`) is scored on its own, like silhouette_score(sample_size=..., random_state=...).
  std::int64_t sample_size = 0;
  std::uint64_t seed = 0;
  bool keep_samples = false;  // fill SilhouetteResult::samples (silhouette_samples)
  int threads = 1;
  void validate() const;
};

struct SilhouetteResult {
  double score = 0.0;        // NaN when undefined, see nan_reason
  std::string nan_reason;    // empty when score is defined
  std::int64_t n_points = 0;  // points scored (after sampling)
  int n_labels = 0;          // distinct labels among them
  // Per-sample s(i) in input order (sampled points only, in increasing index order);
  // only with keep_samples.
  std::vector<double> samples;
};

// points: dims x n (one point per column); labels: n non-negative ints (any values).
// Score is NaN with a reason if the input has non-finite values or the number of distinct
// labels is not in [2, n-1]. Points in singleton clusters get s = 0 (as sklearn).
// Throws AnalysisError if labels.size() != n or a label is negative.
SilhouetteResult silhouette(const Eigen::MatrixXf& points, const std::vector<int>& labels,
                            const SilhouetteOptions& opts = {});

}  // namespace aesweep::analysis
