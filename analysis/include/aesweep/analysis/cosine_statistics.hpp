#pragma once
// Cosine similarity between latent codes of same-digit and different-digit pairs, exact
// over all pairs i < j by normalised GEMM blocks.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace aesweep::analysis {

struct CosineOptions {
  int histogram_bins = 50;  // over [-1, 1]
  // 0: every pair. Otherwise, if n (n - 1) / 2 exceeds it, the statistics use all pairs of
  // a uniformly random subset of points (drawn with `seed`) small enough to fit.
  std::int64_t max_pairs = 0;
  std::uint64_t seed = 0;
  int threads = 1;
  void validate() const;
};

inline constexpr std::array<double, 5> kCosineQuantileLevels = {0.05, 0.25, 0.5, 0.75, 0.95};

struct CosineGroupStats {
  std::uint64_t pairs = 0;
  double mean = 0.0;  // NaN when pairs == 0
  double std = 0.0;   // population standard deviation
  // At kCosineQuantileLevels, numpy's "linear" definition, read from a fine internal
  // histogram (>= 65536 bins over [-1, 1]) with linear interpolation inside the bin:
  // accurate to about 3e-5.
  std::array<double, 5> quantiles{};
  std::vector<std::uint64_t> histogram;  // histogram_bins counts over [-1, 1]; 1.0 goes in the last bin
};

struct CosineStatistics {
  CosineGroupStats same;       // pairs with equal labels
  CosineGroupStats different;  // pairs with different labels
  std::vector<int> classes;    // label values, increasing (classes among non-zero points)
  // class_mean(a, b): mean cosine over pairs (i in a, j in b, i != j); NaN if no pair.
  Eigen::MatrixXd class_mean;
  std::int64_t zero_rows = 0;     // points with an all-zero code, excluded from every pair
  std::int64_t points_used = 0;   // non-zero points that entered the statistics
  std::string nan_reason;         // non-empty if nothing could be computed
};

// points: dims x n; labels: n non-negative ints. Throws AnalysisError on size mismatch or
// negative labels; NaN statistics with a reason for non-finite input.
CosineStatistics cosine_statistics(const Eigen::MatrixXf& points, const std::vector<int>& labels,
                                   const CosineOptions& opts = {});

}  // namespace aesweep::analysis
