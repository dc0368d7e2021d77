#pragma once
// Everything aesweep-analyze computes on one run's test-set latent codes, how the work is spread
// over the ranks (dist's scheduler: latent codes out, results back, as bytes), and what goes into
// the archive (analysis_store.hpp).
#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "aesweep/analysis/cosine_statistics.hpp"
#include "aesweep/analysis/kmeans.hpp"
#include "aesweep/analysis/knn_accuracy.hpp"
#include "aesweep/analysis/silhouette.hpp"
#include "aesweep/analysis/tsne.hpp"
#include "aesweep/dist/communicator.hpp"

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
  std::int64_t tsne_perplexity_unmatched = 0;  // TsneResult::perplexity_unmatched
  std::string tsne_reason;
  std::string tsne_method;             // "barnes-hut" or "fft" (empty when t-SNE is off)
  std::string tsne_method_parameters;  // e.g. "fft interpolation_points=4 min_intervals=50 intervals_per_unit=1"
  CosineStatistics cosine;
  KnnAccuracyResult knn;
  double seconds = 0;
};

// latent: hidden x n test codes; labels: n test labels. Codes whose largest |value| lies outside
// [2^-32, 2^32] (a run that diverged to huge codes, or a penalty that shrank them to nearly
// nothing) are first scaled by a power of two to a largest |value| in [1, 2) (exact, but for
// entries that would become subnormal): in single precision their squared distances would
// overflow or underflow, and t-SNE's precision search (sklearn's, 100 halvings) could not reach
// them. The scores are those of the codes so scaled; the k-means inertia is given in the codes'
// own units, and the cosine statistics, scale-free, use the codes as they are. Ordinary codes are
// analysed as they are.
RunAnalysis analyze_latent(std::int64_t run, const Eigen::MatrixXf& latent, const std::vector<int>& labels,
                           const AnalysisOptions& options);

// A run's results as they travel to rank 0; deserialize throws aesweep::Error on a truncated buffer.
[[nodiscard]] Bytes serialize(const RunAnalysis& a);
[[nodiscard]] RunAnalysis deserialize(std::span<const std::byte> bytes);

// A run's latent codes as they travel to the rank that analyses them.
[[nodiscard]] Bytes pack_latent(std::int64_t run, const Eigen::MatrixXf& latent);
[[nodiscard]] std::pair<std::int64_t, Eigen::MatrixXf> unpack_latent(std::span<const std::byte> payload);

// What rank 0 analyses and where inputs and results live (the archive, in aesweep-analyze).
struct AnalysisSource {
  std::vector<std::int64_t> runs;                               // in hand-out order
  std::function<Eigen::MatrixXf(std::int64_t run)> read_latent;  // hidden x n_test codes of a run
  std::function<void(const RunAnalysis&)> record;                // each result, as it arrives
};

// Rank 0: analyses every run of `source` over the ranks of comm, its own share included. Each
// other rank holds two runs at a time, so it starts the next while its last result travels, and
// rank 0 records each result as it arrives (an interrupted analysis keeps what finished).
// Results do not depend on which rank analysed a run. Returns when every run is recorded.
void coordinate_analysis(Communicator& comm, const AnalysisSource& source, const std::vector<int>& labels,
                         const AnalysisOptions& options);
// Ranks > 0: analyse what rank 0 sends until it says stop.
void serve_analysis(Communicator& comm, const std::vector<int>& labels, const AnalysisOptions& options);

}  // namespace aesweep::analysis
