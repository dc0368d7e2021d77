#pragma once
// Everything aesweep-analyze computes on one run's test-set latent codes, and how the results
// travel between ranks (a flat byte buffer) and into the archive (analysis_store.hpp).
#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "aesweep/analysis/cosine_statistics.hpp"
#include "aesweep/analysis/kmeans.hpp"
#include "aesweep/analysis/knn_accuracy.hpp"
#include "aesweep/analysis/silhouette.hpp"
#include "aesweep/analysis/tsne.hpp"

namespace aesweep::analysis {

struct AnalysisOptions {
  SilhouetteOptions silhouette;
  KmeansSweepOptions kmeans;
  TsneOptions tsne;
  bool run_tsne = true;
  CosineOptions cosine;
  KnnAccuracyOptions knn;
  int threads = 1;
  // Canonical text of every option; its hash decides whether a run is already analysed.
  std::string describe() const;
};

struct RunAnalysis {
  std::int64_t run = -1;
  double silhouette = 0;
  std::string silhouette_reason;
  std::vector<KmeansSweepEntry> kmeans;
  Eigen::MatrixXf tsne_embedding;  // 2 x n, empty when t-SNE is off
  double tsne_kl = std::numeric_limits<double>::quiet_NaN();          // NaN when t-SNE is off
  double trustworthiness = std::numeric_limits<double>::quiet_NaN();
  int tsne_iterations = 0;
  std::string tsne_reason;
  CosineStatistics cosine;
  KnnAccuracyResult knn;
  double seconds = 0;
};

// latent: hidden x n test codes; labels: n test labels.
RunAnalysis analyze_latent(std::int64_t run, const Eigen::MatrixXf& latent, const std::vector<int>& labels,
                           const AnalysisOptions& options);

std::vector<char> serialize(const RunAnalysis& a);
RunAnalysis deserialize(const std::vector<char>& bytes);

}  // namespace aesweep::analysis
