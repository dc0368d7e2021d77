#pragma once
// Barnes-Hut t-SNE to 2-D following sklearn.manifold.TSNE 1.2 (method="barnes_hut",
// init="pca", learning_rate="auto"), with exact kNN by blocked GEMM.
#include <cstdint>
#include <string>

#include <Eigen/Core>

namespace aesweep::analysis {

enum class TsneInit { Pca, Random };

struct TsneOptions {
  double perplexity = 30.0;       // uses min(n - 1, floor(3 * perplexity + 1)) neighbours
  double theta = 0.5;             // Barnes-Hut opening angle ("angle" in sklearn)
  double early_exaggeration = 12.0;
  int exaggeration_iters = 250;   // sklearn's _EXPLORATION_N_ITER
  int n_iter = 1000;              // total, including the exaggeration phase
  double learning_rate = 0.0;     // <= 0: "auto" = max(n / early_exaggeration / 4, 50)
  double momentum_early = 0.5;
  double momentum_late = 0.8;
  double min_gain = 0.01;
  double min_grad_norm = 1e-7;
  int n_iter_without_progress = 300;
  TsneInit init = TsneInit::Pca;  // PCA scaled so PC1 has std 1e-4 (sklearn 1.2)
  std::uint64_t seed = 0;         // random init only; PCA init is deterministic
  int trustworthiness_neighbors = 10;  // 0: skip the trustworthiness computation
  int threads = 1;
  void validate() const;
};

struct TsneResult {
  Eigen::MatrixXf embedding;  // 2 x n (zeros when nan_reason is set)
  // KL(P || Q) as sklearn's barnes_hut reports kl_divergence_: over the sparse symmetric
  // P, with Z = sum_{i != j} (1 + |y_i - y_j|^2)^-1 taken from the Barnes-Hut sum of the
  // final iteration (positions before the last update). NaN with nan_reason if undefined.
  double kl_divergence = 0.0;
  double trustworthiness = 0.0;   // at trustworthiness_neighbors; NaN if skipped/undefined
  std::string trustworthiness_nan_reason;
  int iterations = 0;             // index of the last iteration run (sklearn's n_iter_)
  std::string nan_reason;
};

// points: dims x n. NaN results with a reason (never a throw) for non-finite values,
// fewer than 2 points, perplexity >= n (sklearn refuses those) and all points identical.
TsneResult tsne(const Eigen::MatrixXf& points, const TsneOptions& opts = {});

}  // namespace aesweep::analysis
