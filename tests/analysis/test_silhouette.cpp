#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "aesweep/analysis/error.hpp"
#include "aesweep/analysis/silhouette.hpp"
#include "fixture.hpp"

using namespace aesweep::analysis;

namespace {

// Direct O(n^2) double implementation of sklearn's silhouette_samples, for cross-checks.
std::vector<double> naive_samples(const Eigen::MatrixXf& x, const std::vector<int>& labels) {
  const int n = static_cast<int>(x.cols());
  const int c_max = *std::max_element(labels.begin(), labels.end()) + 1;
  std::vector<double> counts(c_max, 0.0), out(n, 0.0);
  for (int l : labels) counts[l] += 1;
  for (int i = 0; i < n; ++i) {
    std::vector<double> sums(c_max, 0.0);
    for (int j = 0; j < n; ++j) sums[labels[j]] += (x.col(i).cast<double>() - x.col(j).cast<double>()).norm();
    if (counts[labels[i]] <= 1) continue;
    const double a = sums[labels[i]] / (counts[labels[i]] - 1);
    double b = std::numeric_limits<double>::infinity();
    for (int c = 0; c < c_max; ++c)
      if (c != labels[i] && counts[c] > 0) b = std::min(b, sums[c] / counts[c]);
    out[i] = std::max(a, b) > 0 ? (b - a) / std::max(a, b) : 0.0;
  }
  return out;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

}  // namespace

TEST(Silhouette, MatchesSklearnFixtures) {
  for (const auto& name : fixtures::fixture_names()) {
    const auto f = fixtures::load_fixture(name);
    for (int threads : {1, 2}) {
      SilhouetteOptions o;
      o.threads = threads;
      const SilhouetteResult r = silhouette(f.points, f.labels, o);
      EXPECT_TRUE(r.nan_reason.empty()) << r.nan_reason;
      EXPECT_NEAR(r.score, f.num("silhouette"), 1e-5) << name << " threads " << threads;
      EXPECT_EQ(r.n_points, f.points.cols());
    }
  }
}

TEST(Silhouette, HandChecked) {
  Eigen::MatrixXf x(1, 4);
  x << 0, 1, 10, 11;
  const SilhouetteResult r = silhouette(x, {0, 0, 1, 1});
  // Point 0: a = 1, b = 10.5; point 1: a = 1, b = 9.5; symmetric for the other cluster.
  const double expected = ((1 - 1 / 10.5) + (1 - 1 / 9.5)) / 2;
  EXPECT_NEAR(r.score, expected, 1e-12);
}

TEST(Silhouette, SingletonClusterScoresZeroAndArbitraryLabelValues) {
  Eigen::MatrixXf x(1, 3);
  x << 0, 1, 5;
  SilhouetteOptions o;
  o.keep_samples = true;
  const SilhouetteResult r = silhouette(x, {7, 7, 42}, o);
  ASSERT_EQ(r.samples.size(), 3u);
  EXPECT_EQ(r.samples[2], 0.0);
  EXPECT_NEAR(r.samples[0], 1.0 - 1.0 / 5.0, 1e-12);
  EXPECT_NEAR(r.samples[1], 1.0 - 1.0 / 4.0, 1e-12);
  EXPECT_EQ(r.n_labels, 2);
}

TEST(Silhouette, DuplicatesAndSamplesMatchNaive) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  Eigen::MatrixXf x(6, 700);
  std::vector<int> labels(700);
  for (int j = 0; j < 700; ++j) {
    labels[j] = j % 4;
    for (int i = 0; i < 6; ++i) x(i, j) = nd(rng) + 3.0f * static_cast<float>(labels[j] == i);
  }
  for (int j = 600; j < 700; ++j) x.col(j) = x.col(j - 600);  // exact duplicates
  for (int j = 300; j < 310; ++j) x.col(j).setZero();         // zero rows
  SilhouetteOptions o;
  o.keep_samples = true;
  o.threads = 2;
  const SilhouetteResult r = silhouette(x, labels, o);
  const auto ref = naive_samples(x, labels);
  for (int i = 0; i < 700; ++i) ASSERT_NEAR(r.samples[i], ref[i], 1e-5) << i;
  EXPECT_NEAR(r.score, mean(ref), 1e-6);
}

TEST(Silhouette, ManyLabelsRowBlockPathMatchesNaive) {
  // > 1024 labels switches to the row-block (non-symmetric) accumulation.
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-1, 1);
  const int n = 2200;
  Eigen::MatrixXf x(3, n);
  std::vector<int> labels(n);
  for (int j = 0; j < n; ++j) {
    labels[j] = j % 1100;
    for (int i = 0; i < 3; ++i) x(i, j) = u(rng) + static_cast<float>(labels[j] % 10);
  }
  const SilhouetteResult r = silhouette(x, labels, SilhouetteOptions{0, 0, false, 2});
  EXPECT_NEAR(r.score, mean(naive_samples(x, labels)), 1e-5);
}

TEST(Silhouette, UndefinedCasesGiveNanWithReason) {
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(3, 10);
  const std::vector<int> one(10, 3);
  SilhouetteResult r = silhouette(x, one);
  EXPECT_TRUE(std::isnan(r.score));
  EXPECT_FALSE(r.nan_reason.empty());
  std::vector<int> all_different(10);
  for (int i = 0; i < 10; ++i) all_different[i] = i;
  r = silhouette(x, all_different);
  EXPECT_TRUE(std::isnan(r.score));
  x(1, 4) = std::numeric_limits<float>::infinity();
  std::vector<int> two(10, 0);
  two[0] = 1;
  r = silhouette(x, two);
  EXPECT_TRUE(std::isnan(r.score));
  EXPECT_EQ(r.nan_reason, "non-finite latent values");
  r = silhouette(Eigen::MatrixXf(3, 0), {});
  EXPECT_TRUE(std::isnan(r.score));
}

TEST(Silhouette, AllZeroLatentSpaceIsNaNWithAReason) {
  const Eigen::MatrixXf x = Eigen::MatrixXf::Zero(16, 50);
  std::vector<int> labels(50);
  for (int i = 0; i < 50; ++i) labels[i] = i % 10;
  const SilhouetteResult r = silhouette(x, labels);
  // a = b = 0 everywhere (sklearn's nan_to_num would give 0): undefined, and said so.
  EXPECT_TRUE(std::isnan(r.score));
  EXPECT_NE(r.nan_reason.find("identical"), std::string::npos) << r.nan_reason;
}

// A sample that happens to hold only equal codes says so: the codes as a whole are not.
TEST(Silhouette, AnIdenticalSampleIsNotCalledAnIdenticalLatentSpace) {
  Eigen::MatrixXf x = Eigen::MatrixXf::Zero(4, 60);
  x(0, 59) = 1.0f;  // one code differs
  std::vector<int> labels(60);
  for (int i = 0; i < 60; ++i) labels[i] = i % 3;
  SilhouetteOptions o;
  o.sample_size = 6;
  o.seed = 1;
  const SilhouetteResult r = silhouette(x, labels, o);
  ASSERT_TRUE(std::isnan(r.score));  // seed 1 leaves code 59 out of the sample
  EXPECT_NE(r.nan_reason.find("every latent code of the sample is identical"), std::string::npos) << r.nan_reason;
  x(0, 59) = 0.0f;  // now all are: the whole latent space is named, sampled or not
  EXPECT_NE(silhouette(x, labels, o).nan_reason.find("every latent code is identical"), std::string::npos);
}

TEST(Silhouette, SamplingIsDeterministicAndOptional) {
  const auto f = fixtures::load_fixture("blobs_1200x40");
  SilhouetteOptions o;
  o.sample_size = 400;
  o.seed = 11;
  const SilhouetteResult a = silhouette(f.points, f.labels, o);
  const SilhouetteResult b = silhouette(f.points, f.labels, o);
  EXPECT_EQ(a.n_points, 400);
  EXPECT_EQ(a.score, b.score);
  EXPECT_NEAR(a.score, f.num("silhouette"), 0.05);
  o.sample_size = 5000;  // larger than n: exact
  EXPECT_NEAR(silhouette(f.points, f.labels, o).score, f.num("silhouette"), 1e-5);
}

// Several threads, repeated: per-thread label sums over the same blocks in the same order.
TEST(Silhouette, RepeatableWithThreads) {
  const Eigen::MatrixXf x = fixtures::random_points(12, 3000, 9);
  std::vector<int> labels(3000);
  for (int i = 0; i < 3000; ++i) labels[i] = (i * 7) % 10;
  SilhouetteOptions o;
  o.threads = 2;
  const double a = silhouette(x, labels, o).score;
  for (int repeat = 0; repeat < 4; ++repeat) EXPECT_EQ(silhouette(x, labels, o).score, a) << repeat;
}

TEST(Silhouette, RejectsMalformedInput) {
  const Eigen::MatrixXf x = Eigen::MatrixXf::Random(2, 4);
  EXPECT_THROW(silhouette(x, {0, 1, 0}), AnalysisError);
  EXPECT_THROW(silhouette(x, {0, 1, -1, 0}), AnalysisError);
  SilhouetteOptions o;
  o.threads = 0;
  EXPECT_THROW(silhouette(x, {0, 1, 0, 1}, o), AnalysisError);
}
