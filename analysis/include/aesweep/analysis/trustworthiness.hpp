#pragma once
// Trustworthiness of an embedding, as sklearn.manifold.trustworthiness (Euclidean), exact
// and blocked: no N x N matrix is formed.
#include <string>

#include <Eigen/Core>

#include "aesweep/analysis/neighbors.hpp"

namespace aesweep::analysis {

struct TrustworthinessOptions {
  int n_neighbors = 5;  // sklearn's default; t-SNE reports use 10
  int threads = 1;
  void validate() const;
};

struct TrustworthinessResult {
  double value = 0.0;      // in [0, 1]; NaN with reason if undefined
  std::string nan_reason;
};

// original: dims x n, embedded: e x n (same n). NaN if n_neighbors >= n / 2 (sklearn's
// requirement) or values are non-finite. Ranks in the original space break distance ties by
// the smaller index (sklearn's argsort order on ties is unspecified).
//
// original_neighbours, when given, must be exact_knn(original, K) for some K (t-SNE has it): a
// point whose embedding neighbours all sit well inside its list gets their ranks from the list
// (same tie rule), and only the other points scan the whole original space. Same result.
TrustworthinessResult trustworthiness(const Eigen::MatrixXf& original, const Eigen::MatrixXf& embedded,
                                      const TrustworthinessOptions& opts = {},
                                      const KnnResult* original_neighbours = nullptr);

}  // namespace aesweep::analysis
