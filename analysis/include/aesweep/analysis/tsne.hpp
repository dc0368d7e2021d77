#pragma once
// t-SNE to 2-D following sklearn.manifold.TSNE 1.2 (init="pca", learning_rate="auto"), with
// exact kNN by blocked GEMM. The repulsive forces come from Barnes-Hut (sklearn's
// method="barnes_hut") or from FFT-accelerated interpolation (Linderman et al., Nature Methods
// 2019, as FIt-SNE and openTSNE), chosen by the number of points unless set.
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace aesweep::analysis {

enum class TsneInit { Pca, Random };

// Auto: FFT interpolation from kTsneAutoFftMinPoints points on (and theta > 0), Barnes-Hut below.
enum class TsneMethod { Auto, BarnesHut, Fft };

// Where Auto switches to FFT interpolation: the measured crossover of the two methods' whole
// t-SNE time on Fashion-MNIST codes, 2 threads (docs/analysis-benchmarks.md): Barnes-Hut is
// faster at 10,000 to 70,000 points (70k: 27 s vs 37 s) and they tie at 140,000 (75 s vs 77 s);
// FFT's cost grows with the embedding's area, Barnes-Hut's with n log n.
inline constexpr std::int64_t kTsneAutoFftMinPoints = 150000;

// Automatic FFT nodes: 5 keeps the KL within 0.5% of Barnes-Hut's at 10,000 points (4: +3.2%);
// from 100,000 points 4 is as close (140k: +0.02%) and 40% faster.
inline constexpr int kTsneFftPointsSmall = 5, kTsneFftPointsLarge = 4;
inline constexpr std::int64_t kTsneFftPointsSwitch = 100000;

// "auto", "barnes-hut", "fft"; parse_tsne_method throws AnalysisError on anything else.
const char* tsne_method_name(TsneMethod m);
TsneMethod parse_tsne_method(const std::string& name);

struct TsneOptions {
  double perplexity = 30.0;       // uses min(n - 1, floor(3 * perplexity + 1)) neighbours
  TsneMethod method = TsneMethod::Auto;
  double theta = 0.5;             // Barnes-Hut opening angle ("angle" in sklearn); 0 = exact
  // FFT interpolation: nodes per box and axis, 0 = automatic (kTsneFftPointsSmall below
  // kTsneFftPointsSwitch points, kTsneFftPointsLarge from there; FIt-SNE has 3, which leaves the
  // KL 4-7% above Barnes-Hut's on Fashion-MNIST codes, docs/analysis-benchmarks.md), and the box
  // width: at most 1 / fft_intervals_per_unit and at most the longer side / fft_min_intervals.
  int fft_interpolation_points = 0;
  int fft_min_intervals = 50;
  double fft_intervals_per_unit = 1.0;
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
  // Points whose affinities could not reach the perplexity (entropy within 1e-5 of
  // log(perplexity) in 100 bisection steps; sklearn's rule, which it does not report). Their P is
  // the search's last: typically codes repeated more often than the affinity's neighbours, whose
  // P stays uniform over them. 0 when t-SNE did not run.
  std::int64_t perplexity_unmatched = 0;
  std::string nan_reason;
  // The repulsion method that ran (BarnesHut or Fft, never Auto) and its parameters as text,
  // e.g. "barnes-hut theta=0.5" or "fft interpolation_points=5 min_intervals=50 intervals_per_unit=1"
  // (the nodes actually used, automatic ones resolved).
  TsneMethod method = TsneMethod::BarnesHut;
  std::string method_parameters;
};

// The method tsne() runs for n points with these options, and the FFT nodes it would use.
TsneMethod resolve_tsne_method(std::int64_t n, const TsneOptions& opts);
int resolve_tsne_fft_points(std::int64_t n, const TsneOptions& opts);

// points: dims x n. NaN results with a reason (never a throw) for non-finite values,
// fewer than 2 points, perplexity >= n (sklearn refuses those) and all points identical.
TsneResult tsne(const Eigen::MatrixXf& points, const TsneOptions& opts = {});

// One evaluation of the repulsive terms at positions y = (x0, y0, x1, y1, ...), for tests and
// benchmarks: force[2i..2i+1] = sum_{j != i} q_ij^2 (y_i - y_j) and z = sum_{i != j} q_ij with
// q_ij = 1 / (1 + |y_i - y_j|^2), by opts.method (Auto resolved by n) on opts.threads threads;
// tsne_repulsion_exact sums every pair (O(n^2)). Both need at least 2 finite positions.
struct TsneRepulsion {
  std::vector<double> force;
  double z = 0.0;
};
TsneRepulsion tsne_repulsion(const std::vector<double>& y, const TsneOptions& opts = {});
TsneRepulsion tsne_repulsion_exact(const std::vector<double>& y);

}  // namespace aesweep::analysis
