#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "aesweep/analysis/error.hpp"
#include "aesweep/analysis/tsne.hpp"
#include "fixture.hpp"

using namespace aesweep::analysis;

namespace {

Eigen::MatrixXf blobs(int dims, int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  Eigen::MatrixXf x(dims, n);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < dims; ++i) x(i, j) = nd(rng) + 6.0f * static_cast<float>(j % 3 == i);
  return x;
}

}  // namespace

// sklearn reference: TSNE(perplexity=30, init="pca", learning_rate="auto", angle=0.5,
// n_iter=1000, random_state=0).kl_divergence_ and trustworthiness(X, Y, n_neighbors=10).
TEST(Tsne, MatchesSklearnQuality) {
  for (const std::string name : {"blobs_600x20", "fashion_1500x32"}) {
    const auto f = fixtures::load_fixture(name);
    TsneOptions o;
    o.threads = 2;
    const TsneResult r = tsne(f.points, o);
    ASSERT_TRUE(r.nan_reason.empty()) << r.nan_reason;
    EXPECT_EQ(r.embedding.rows(), 2);
    EXPECT_EQ(r.embedding.cols(), f.points.cols());
    EXPECT_LE(r.kl_divergence, 1.03 * f.num("tsne_kl")) << name;
    EXPECT_GT(r.kl_divergence, 0.5 * f.num("tsne_kl")) << name;
    EXPECT_GE(r.trustworthiness, f.num("tsne_trustworthiness10") - 0.005) << name;
    EXPECT_EQ(r.iterations, 999);
    std::cout << "[ info     ] " << name << ": KL " << r.kl_divergence << " (sklearn " << f.num("tsne_kl")
              << "), trustworthiness " << r.trustworthiness << " (sklearn " << f.num("tsne_trustworthiness10")
              << ")\n";
  }
}

TEST(Tsne, DeterministicAcrossRuns) {
  const Eigen::MatrixXf x = blobs(5, 200, 1);
  TsneOptions o;
  o.n_iter = 300;
  o.trustworthiness_neighbors = 0;
  const TsneResult a = tsne(x, o);
  const TsneResult b = tsne(x, o);
  EXPECT_EQ(a.embedding, b.embedding);
  EXPECT_TRUE(std::isnan(a.trustworthiness));
}

// With several threads too: each thread sums the same tasks in the same order on every run (the
// threaded paths start at 2048 points), so the embedding is the same bits run after run.
TEST(Tsne, DeterministicAcrossRunsWithThreads) {
  const Eigen::MatrixXf x = blobs(5, 500, 3);  // 2,500 points
  TsneOptions o;
  o.n_iter = 120;
  o.trustworthiness_neighbors = 0;
  o.threads = 2;
  const TsneResult a = tsne(x, o);
  for (int repeat = 0; repeat < 3; ++repeat) EXPECT_EQ(tsne(x, o).embedding, a.embedding) << repeat;
}

TEST(Tsne, ExactThetaZeroAgreesWithBarnesHut) {
  const Eigen::MatrixXf x = blobs(6, 300, 2);
  TsneOptions o;
  o.perplexity = 20;
  o.threads = 2;
  const TsneResult bh = tsne(x, o);
  o.theta = 0.0;
  const TsneResult exact = tsne(x, o);
  ASSERT_TRUE(std::isfinite(bh.kl_divergence) && std::isfinite(exact.kl_divergence));
  // Different runs end in slightly different optima; BH must not be grossly worse.
  EXPECT_LE(bh.kl_divergence, 1.10 * exact.kl_divergence);
  EXPECT_GE(bh.kl_divergence, 0.90 * exact.kl_divergence);
  EXPECT_GT(exact.trustworthiness, 0.9);
}

TEST(Tsne, RandomInitWorks) {
  TsneOptions o;
  o.init = TsneInit::Random;
  o.seed = 4;
  o.perplexity = 10;
  const TsneResult r = tsne(blobs(4, 150, 3), o);
  EXPECT_TRUE(r.nan_reason.empty());
  EXPECT_TRUE(std::isfinite(r.kl_divergence));
  EXPECT_GT(r.trustworthiness, 0.85);
}

TEST(Tsne, AllIdenticalPointsGiveNanWithReason) {
  const TsneResult r = tsne(Eigen::MatrixXf::Zero(16, 100));
  EXPECT_TRUE(std::isnan(r.kl_divergence));
  EXPECT_TRUE(std::isnan(r.trustworthiness));
  EXPECT_FALSE(r.nan_reason.empty());
  EXPECT_EQ(r.embedding.cols(), 100);
  EXPECT_EQ(r.embedding.cwiseAbs().maxCoeff(), 0.0f);
}

TEST(Tsne, NonFiniteInputGivesNanWithReason) {
  Eigen::MatrixXf x = blobs(3, 50, 5);
  x(2, 7) = std::numeric_limits<float>::infinity();
  const TsneResult r = tsne(x);
  EXPECT_TRUE(std::isnan(r.kl_divergence));
  EXPECT_EQ(r.nan_reason, "non-finite latent values");
}

TEST(Tsne, TooFewPointsForPerplexity) {
  TsneResult r = tsne(blobs(3, 20, 6));  // perplexity 30 >= n
  EXPECT_TRUE(std::isnan(r.kl_divergence));
  EXPECT_FALSE(r.nan_reason.empty());
  r = tsne(blobs(3, 1, 6));
  EXPECT_FALSE(r.nan_reason.empty());
  TsneOptions o;
  o.perplexity = 2;  // tiny n: k = min(n - 1, 3 * 2 + 1) = 7
  r = tsne(blobs(3, 8, 7), o);
  EXPECT_TRUE(r.nan_reason.empty()) << r.nan_reason;
  EXPECT_TRUE(std::isfinite(r.kl_divergence));
  EXPECT_TRUE(r.embedding.allFinite());
  o.perplexity = 1.5;
  r = tsne(blobs(3, 2, 8), o);  // two points: k = 1
  EXPECT_TRUE(r.embedding.allFinite());
}

TEST(Tsne, DuplicatesAndZeroRowsAreHandled) {
  Eigen::MatrixXf x = blobs(8, 400, 9);
  for (int j = 200; j < 400; ++j) x.col(j) = x.col(j % 5);  // heavy exact duplication
  x.leftCols(20).setZero();
  TsneOptions o;
  o.threads = 2;
  o.n_iter = 400;
  const TsneResult r = tsne(x, o);
  EXPECT_TRUE(r.nan_reason.empty()) << r.nan_reason;
  EXPECT_TRUE(std::isfinite(r.kl_divergence));
  EXPECT_TRUE(r.embedding.allFinite());
}

// Codes that repeat (an all-zero latent space but for a few digits) stay at one position in the
// embedding. Barnes-Hut's repulsion skips such pairs, as sklearn's does; the KL must still count
// them in its normalisation (q = 1 each), or it comes out below zero, which no KL can be.
TEST(Tsne, CoincidentPointsLeaveTheKlAtOrAboveZero) {
  for (const int distinct : {1, 2, 30}) {
    Eigen::MatrixXf x = Eigen::MatrixXf::Zero(8, 300);
    x.rightCols(distinct) = blobs(8, distinct, 11);
    TsneOptions o;
    o.perplexity = 10;
    o.n_iter = 300;
    const TsneResult r = tsne(x, o);
    ASSERT_TRUE(r.nan_reason.empty()) << r.nan_reason;
    EXPECT_GE(r.kl_divergence, 0.0) << distinct << " distinct codes";
  }
}

// A point whose affinity neighbours all lie at one distance has entropy log(k) at every precision,
// so its search cannot reach log(perplexity): sklearn keeps the last step's P without a word; the
// result counts such points. Real codes (Fashion-MNIST) reach it everywhere; with one code repeated
// past the neighbour count (as dead or saturated runs repeat codes), exactly the points whose k
// nearest are all at one distance are counted, found here by a brute-force scan.
TEST(Tsne, CountsPointsThatCannotReachThePerplexity) {
  const auto f = fixtures::load_fixture("fashion_1500x32");
  TsneOptions o;
  o.threads = 2;
  o.n_iter = 260;
  o.trustworthiness_neighbors = 0;
  EXPECT_EQ(tsne(f.points, o).perplexity_unmatched, 0);
  Eigen::MatrixXf x = f.points;
  for (int j = 1; j <= 150; ++j) x.col(j * 9) = x.col(0);  // 151 copies of one code
  const Eigen::Index n = x.cols(), k = 91;                 // floor(3 * 30 + 1) neighbours
  std::int64_t expected = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    std::vector<float> d;
    for (Eigen::Index j = 0; j < n; ++j)
      if (j != i) d.push_back((x.col(j) - x.col(i)).squaredNorm());
    std::nth_element(d.begin(), d.begin() + (k - 1), d.end());
    const float kth = d[k - 1];
    expected += std::all_of(d.begin(), d.begin() + k, [&](float v) { return v == kth; });
  }
  EXPECT_GE(expected, 151);
  const TsneResult r = tsne(x, o);
  ASSERT_TRUE(r.nan_reason.empty()) << r.nan_reason;
  EXPECT_EQ(r.perplexity_unmatched, expected);
  EXPECT_TRUE(std::isfinite(r.kl_divergence));
}

// Codes of rank 1 (hidden = 1, or a single active unit): PCA gives the second axis no spread and
// nothing ever moved the points off that line (the embedding's y was exactly 0 everywhere). The
// second axis now starts as random initialisation's, and the embedding is a 2-D one.
TEST(Tsne, RankOneCodesGetATwoDimensionalEmbedding) {
  for (const int dims : {1, 6}) {
    Eigen::MatrixXf x = Eigen::MatrixXf::Zero(dims, 240);
    std::mt19937 rng(4);
    std::normal_distribution<float> nd;
    for (int j = 0; j < 240; ++j) x(0, j) = nd(rng) + 5.0f * float(j % 3);
    TsneOptions o;
    o.perplexity = 20;
    o.n_iter = 400;
    const TsneResult r = tsne(x, o);
    ASSERT_TRUE(r.nan_reason.empty()) << r.nan_reason;
    const Eigen::ArrayXf second = r.embedding.row(1).array();
    const float spread = std::sqrt((second - second.mean()).square().mean());
    const Eigen::ArrayXf first = r.embedding.row(0).array();
    EXPECT_GT(spread, 0.1f * std::sqrt((first - first.mean()).square().mean())) << dims << " dims";
    EXPECT_TRUE(std::isfinite(r.kl_divergence));
  }
}

// Barnes-Hut's Z counts pairs of points at one position (q = 1 each), as the exact sum and the
// FFT's do: every point at one spot, and 40 points on 4 spots among 60 spread ones.
TEST(TsneRepulsion, BarnesHutCountsCoincidentPairsInZ) {
  TsneOptions o;
  o.method = TsneMethod::BarnesHut;
  const std::vector<double> same(200, 3.5);
  EXPECT_EQ(tsne_repulsion(same, o).z, 100.0 * 99.0);
  std::vector<double> some;
  std::mt19937 rng(3);
  std::normal_distribution<double> nd;
  for (int i = 0; i < 100; ++i) {
    const bool repeated = i < 40;
    some.push_back(repeated ? double(i % 4) : 5.0 * nd(rng));
    some.push_back(repeated ? 0.5 : 5.0 * nd(rng));
  }
  const double exact = tsne_repulsion_exact(some).z;
  EXPECT_NEAR(tsne_repulsion(some, o).z, exact, 0.02 * exact);
  EXPECT_GT(exact, 4 * 10.0 * 9.0);
  // Two groups one float apart in double (1 and 1 - 1e-12): one position in single precision,
  // where the repulsion looks, though they may sit in different cells of the tree.
  std::vector<double> split;
  for (int i = 0; i < 40; ++i) split.insert(split.end(), {i < 20 ? 1.0 : 1.0 - 1e-12, 3.0});
  split.insert(split.end(), {-2.0, 0.0, 5.0, 1.0});
  const double split_exact = tsne_repulsion_exact(split).z;
  EXPECT_NEAR(tsne_repulsion(split, o).z, split_exact, 1e-3 * split_exact);
}

TEST(Tsne, RejectsBadOptions) {
  TsneOptions o;
  o.perplexity = 0;
  EXPECT_THROW(tsne(blobs(3, 50, 1), o), AnalysisError);
  o = TsneOptions{};
  o.theta = -1;
  EXPECT_THROW(o.validate(), AnalysisError);
}

// ---------------------------------------------------------------------------------------
// FFT-interpolated repulsion (Linderman et al. 2019) against the exact O(n^2) sums.

namespace {

std::vector<double> interleaved(const Eigen::MatrixXf& e, double scale = 1.0) {
  std::vector<double> y(static_cast<std::size_t>(2 * e.cols()));
  for (Eigen::Index i = 0; i < e.cols(); ++i) {
    y[2 * i] = scale * e(0, i);
    y[2 * i + 1] = scale * e(1, i);
  }
  return y;
}

struct Errors {
  double force = 0.0;  // ||F - F_exact|| / ||F_exact||
  double z = 0.0;      // |Z - Z_exact| / Z_exact
};

Errors repulsion_errors(const std::vector<double>& y, const TsneOptions& o) {
  const TsneRepulsion exact = tsne_repulsion_exact(y);
  const TsneRepulsion approx = tsne_repulsion(y, o);
  double num = 0.0, den = 0.0;
  for (std::size_t c = 0; c < y.size(); ++c) {
    num += (approx.force[c] - exact.force[c]) * (approx.force[c] - exact.force[c]);
    den += exact.force[c] * exact.force[c];
  }
  return {std::sqrt(num / den), std::fabs(approx.z - exact.z) / exact.z};
}

// A real embedding: Barnes-Hut t-SNE of 1,500 Fashion-MNIST images (PCA to 32 dimensions).
const Eigen::MatrixXf& fashion_embedding() {
  static const Eigen::MatrixXf e = [] {
    TsneOptions o;
    o.method = TsneMethod::BarnesHut;
    o.threads = 2;
    o.trustworthiness_neighbors = 0;
    return tsne(fixtures::load_fixture("fashion_1500x32").points, o).embedding;
  }();
  return e;
}

}  // namespace

TEST(TsneFft, RepulsionMatchesExactOnRealEmbedding) {
  TsneOptions fft;
  fft.method = TsneMethod::Fft;
  fft.fft_interpolation_points = 4;  // the nodes used from 100,000 points on
  fft.threads = 2;
  TsneOptions bh = fft;
  bh.method = TsneMethod::BarnesHut;
  // The final embedding, and the same shrunk as in the early iterations (span ~1) and as
  // right after the exaggeration phase.
  for (double scale : {1.0, 0.25, 0.02}) {
    const std::vector<double> y = interleaved(fashion_embedding(), scale);
    const Errors f = repulsion_errors(y, fft);
    const Errors b = repulsion_errors(y, bh);
    std::cout << "[ info     ] scale " << scale << ": FFT force error " << f.force << ", Z error " << f.z
              << "; Barnes-Hut " << b.force << ", " << b.z << "\n";
    if (scale == 1.0) {
      // Boxes of one unit with 4 nodes: ~1% (FIt-SNE's 3 nodes: ~4%), Barnes-Hut ~0.3%.
      EXPECT_LT(f.force, 2e-2);
      EXPECT_LT(f.z, 1e-3);
    } else {
      // Boxes narrower than a unit (the grid has at least 50 per side): far below Barnes-Hut's.
      EXPECT_LT(f.force, 1e-3) << scale;
      EXPECT_LT(f.z, 1e-4) << scale;
      EXPECT_LT(f.force, b.force / 10.0) << scale;
    }
  }
}

TEST(TsneFft, MoreInterpolationPointsAreMoreAccurate) {
  const std::vector<double> y = interleaved(fashion_embedding());
  TsneOptions o;
  o.method = TsneMethod::Fft;
  o.fft_interpolation_points = 2;
  const Errors two = repulsion_errors(y, o);
  o.fft_interpolation_points = 5;
  const Errors five = repulsion_errors(y, o);
  EXPECT_LT(five.force, two.force / 10.0);
  EXPECT_LT(five.force, 5e-3);
  o.fft_interpolation_points = 4;
  o.fft_intervals_per_unit = 4.0;  // boxes of a quarter unit
  EXPECT_LT(repulsion_errors(y, o).force, 1e-3);
}

// Degenerate layouts the optimiser can meet: every point at one spot, two far-apart clusters
// (a box grid much wider than it is tall), and a layout wider than the grid's box limit.
TEST(TsneFft, DegenerateLayouts) {
  TsneOptions o;
  o.method = TsneMethod::Fft;
  std::vector<double> same(200, 3.5);
  const TsneRepulsion s = tsne_repulsion(same, o);
  EXPECT_NEAR(s.z, 100.0 * 99.0, 1e-6 * 100.0 * 99.0);
  for (double f : s.force) EXPECT_NEAR(f, 0.0, 1e-9);

  std::vector<double> apart;
  std::mt19937 rng(5);
  std::normal_distribution<double> nd;
  for (int i = 0; i < 300; ++i) {
    apart.push_back(nd(rng) + (i % 2 ? 80.0 : -80.0));
    apart.push_back(nd(rng));
  }
  const Errors e = repulsion_errors(apart, o);
  EXPECT_LT(e.force, 1e-2);
  EXPECT_LT(e.z, 2e-4);

  std::vector<double> wide = apart;
  for (double& v : wide) v *= 10.0;  // 1,600 units: wider boxes than 1 unit
  const TsneRepulsion w = tsne_repulsion(wide, o);
  for (double f : w.force) EXPECT_TRUE(std::isfinite(f));
  EXPECT_TRUE(std::isfinite(w.z));
}

TEST(TsneFft, RepulsionRejectsBadInput) {
  TsneOptions o;
  o.method = TsneMethod::Fft;
  EXPECT_THROW(tsne_repulsion({1.0, 2.0}, o), AnalysisError);
  EXPECT_THROW(tsne_repulsion({1.0, 2.0, 3.0}, o), AnalysisError);
  EXPECT_THROW(tsne_repulsion({1.0, 2.0, std::nan(""), 0.0}, o), AnalysisError);
  o.fft_interpolation_points = 1;
  EXPECT_THROW(tsne_repulsion({0.0, 0.0, 1.0, 1.0}, o), AnalysisError);
  o = TsneOptions{};
  o.fft_intervals_per_unit = 0.0;
  EXPECT_THROW(o.validate(), AnalysisError);
  o = TsneOptions{};
  o.fft_min_intervals = 0;
  EXPECT_THROW(o.validate(), AnalysisError);
  EXPECT_THROW(parse_tsne_method("FFT"), AnalysisError);
  EXPECT_THROW(parse_tsne_method(""), AnalysisError);
  EXPECT_EQ(parse_tsne_method("barnes-hut"), TsneMethod::BarnesHut);
  EXPECT_EQ(parse_tsne_method("fft"), TsneMethod::Fft);
  EXPECT_EQ(parse_tsne_method("auto"), TsneMethod::Auto);
}

TEST(TsneFft, AutoChoosesByPointCount) {
  TsneOptions o;
  EXPECT_EQ(resolve_tsne_method(kTsneAutoFftMinPoints - 1, o), TsneMethod::BarnesHut);
  EXPECT_EQ(resolve_tsne_method(kTsneAutoFftMinPoints, o), TsneMethod::Fft);
  o.theta = 0.0;  // exact asked for: Barnes-Hut with theta 0
  EXPECT_EQ(resolve_tsne_method(kTsneAutoFftMinPoints, o), TsneMethod::BarnesHut);
  o.method = TsneMethod::Fft;
  EXPECT_EQ(resolve_tsne_method(10, o), TsneMethod::Fft);
  // Automatic FFT nodes: 5 below 100,000 points, 4 from there; a set value is kept.
  EXPECT_EQ(resolve_tsne_fft_points(kTsneFftPointsSwitch - 1, o), 5);
  EXPECT_EQ(resolve_tsne_fft_points(kTsneFftPointsSwitch, o), 4);
  o.fft_interpolation_points = 3;
  EXPECT_EQ(resolve_tsne_fft_points(1000000, o), 3);
  std::vector<double> y(400);
  for (std::size_t c = 0; c < y.size(); ++c) y[c] = std::sin(0.37 * static_cast<double>(c)) * 20.0;
  o.fft_interpolation_points = 0;
  TsneOptions five = o;
  five.fft_interpolation_points = 5;
  EXPECT_EQ(tsne_repulsion(y, o).force, tsne_repulsion(y, five).force);
}

// A whole t-SNE by FFT on real data: sklearn-level quality, the method recorded, and the same
// bits run after run with two threads.
TEST(TsneFft, WholeRunMatchesSklearnQualityAndRepeats) {
  const auto f = fixtures::load_fixture("fashion_1500x32");
  TsneOptions o;
  o.method = TsneMethod::Fft;
  o.threads = 2;
  const TsneResult r = tsne(f.points, o);
  ASSERT_TRUE(r.nan_reason.empty()) << r.nan_reason;
  EXPECT_EQ(r.method, TsneMethod::Fft);
  EXPECT_EQ(r.method_parameters, "fft interpolation_points=5 min_intervals=50 intervals_per_unit=1");
  EXPECT_LE(r.kl_divergence, 1.03 * f.num("tsne_kl"));
  EXPECT_GE(r.trustworthiness, f.num("tsne_trustworthiness10") - 0.005);
  std::cout << "[ info     ] FFT: KL " << r.kl_divergence << " (sklearn " << f.num("tsne_kl") << "), trustworthiness "
            << r.trustworthiness << "\n";
  o.n_iter = 300;
  o.trustworthiness_neighbors = 0;
  const Eigen::MatrixXf x = blobs(5, 500, 3);  // 2,500 points: the threaded paths
  const TsneResult a = tsne(x, o);
  for (int repeat = 0; repeat < 2; ++repeat) EXPECT_EQ(tsne(x, o).embedding, a.embedding) << repeat;
  const TsneResult bh = tsne(f.points, TsneOptions{});
  EXPECT_EQ(bh.method, TsneMethod::BarnesHut);
  EXPECT_EQ(bh.method_parameters, "barnes-hut theta=0.5");
}
