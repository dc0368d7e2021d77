#pragma once
// k-means (greedy k-means++ init + Lloyd), like sklearn.cluster.KMeans(algorithm="lloyd"),
// and a sweep over k reporting inertia and the silhouette of the k-means labels.
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "aesweep/analysis/silhouette.hpp"

namespace aesweep::analysis {

struct KmeansOptions {
  std::uint64_t seed = 0;
  // Independent k-means++ starts; the lowest inertia wins. 1 would match sklearn >= 1.4's
  // n_init="auto" for k-means++ (sklearn 1.2's default is 10); aesweep-analyze uses 3.
  int n_init = 3;
  int max_iter = 300;
  // Relative tolerance: stop when the summed squared centre shift is <= tol * mean
  // per-feature variance (sklearn's convention), or when labels stop changing.
  double tol = 1e-4;
  int threads = 1;
  void validate() const;
};

struct KmeansResult {
  std::vector<int> labels;   // cluster of each point, 0..k-1
  Eigen::MatrixXf centers;   // dims x k
  double inertia = 0.0;      // sum of squared distances to the assigned centre; NaN if undefined
  int iterations = 0;        // Lloyd iterations of the winning start
  std::string nan_reason;    // non-empty when no clustering was produced
};

// points: dims x n. NaN result (empty labels) with a reason for non-finite input or
// k > n. Throws AnalysisError for k < 1 or invalid options.
KmeansResult kmeans(const Eigen::MatrixXf& points, int k, const KmeansOptions& opts = {});

struct KmeansSweepOptions {
  int k_min = 2;
  int k_max = 15;
  KmeansOptions kmeans;          // its threads are used for the silhouettes too
  SilhouetteOptions silhouette;  // threads overridden by kmeans.threads
  void validate() const;
};

struct KmeansSweepEntry {
  int k = 0;
  double inertia = 0.0;
  double silhouette = 0.0;  // of the k-means labels; NaN with reason if undefined
  int iterations = 0;
  std::string nan_reason;
};

// One entry per k in [k_min, k_max] (k > n gives a NaN entry rather than an error).
std::vector<KmeansSweepEntry> kmeans_sweep(const Eigen::MatrixXf& points, const KmeansSweepOptions& opts = {});

}  // namespace aesweep::analysis
