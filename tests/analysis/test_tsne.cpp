#include <gtest/gtest.h>

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

TEST(Tsne, RejectsBadOptions) {
  TsneOptions o;
  o.perplexity = 0;
  EXPECT_THROW(tsne(blobs(3, 50, 1), o), AnalysisError);
  o = TsneOptions{};
  o.theta = -1;
  EXPECT_THROW(o.validate(), AnalysisError);
}
