#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "aesweep/analysis/error.hpp"
#include "aesweep/analysis/kmeans.hpp"
#include "fixture.hpp"

using namespace aesweep::analysis;

// sklearn reference: KMeans(n_clusters=10, random_state=0) with n_init=10 and n_init=1.
// The best of 10 starts is itself a random draw: on fashion_1500x32 our n_init=10 over
// seeds 0..5 gives 30120..30578 against sklearn's 30114 (its n_init=1 gives 30514). To be
// seed-independent the 1% check uses the best of 30 starts; single starts get 3%.
TEST(Kmeans, InertiaWithinOnePercentOfSklearnAtK10) {
  for (const auto& name : fixtures::fixture_names()) {
    const auto f = fixtures::load_fixture(name);
    KmeansOptions o;
    o.n_init = 30;
    o.threads = 2;
    const KmeansResult r = kmeans(f.points, 10, o);
    ASSERT_TRUE(r.nan_reason.empty());
    const double ref = f.num("kmeans10_inertia_ninit10");
    EXPECT_LE(r.inertia, 1.01 * ref) << name;
    EXPECT_GE(r.inertia, 0.95 * ref) << name;
    EXPECT_EQ(r.labels.size(), static_cast<std::size_t>(f.points.cols()));
    EXPECT_EQ(r.centers.cols(), 10);
    EXPECT_GE(r.iterations, 1);
    o.n_init = 1;
    EXPECT_LE(kmeans(f.points, 10, o).inertia, 1.03 * f.num("kmeans10_inertia_ninit1")) << name;
  }
}

TEST(Kmeans, HandCheckedTwoGroups) {
  Eigen::MatrixXf x(2, 6);
  x << 0, 1, 0, 10, 11, 10,  //
      0, 0, 1, 10, 10, 11;
  const KmeansResult r = kmeans(x, 2);
  EXPECT_EQ(r.labels[0], r.labels[1]);
  EXPECT_EQ(r.labels[0], r.labels[2]);
  EXPECT_EQ(r.labels[3], r.labels[4]);
  EXPECT_NE(r.labels[0], r.labels[3]);
  // Each group: centre (1/3, 1/3) offset; inertia = 2 * (2/9 + 5/9 + 5/9) = 8/3.
  EXPECT_NEAR(r.inertia, 8.0 / 3.0, 1e-5);
  const int c = r.labels[0];
  EXPECT_NEAR(r.centers(0, c), 1.0 / 3.0, 1e-6);
  EXPECT_NEAR(r.centers(1, c), 1.0 / 3.0, 1e-6);
}

TEST(Kmeans, DeterministicAndThreadIndependent) {
  const auto f = fixtures::load_fixture("blobs_1200x40");
  KmeansOptions o;
  o.seed = 3;
  const KmeansResult a = kmeans(f.points, 7, o);
  o.threads = 2;
  const KmeansResult b = kmeans(f.points, 7, o);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_DOUBLE_EQ(a.inertia, b.inertia);
}

// Several threads, repeated: the cluster sums are added in the same order every run.
TEST(Kmeans, RepeatableWithThreads) {
  const Eigen::MatrixXf x = fixtures::random_points(16, 6000, 5);
  KmeansOptions o;
  o.seed = 2;
  o.threads = 2;
  const KmeansResult a = kmeans(x, 9, o);
  for (int repeat = 0; repeat < 4; ++repeat) {
    const KmeansResult b = kmeans(x, 9, o);
    EXPECT_EQ(a.labels, b.labels) << repeat;
    EXPECT_EQ(a.centers, b.centers) << repeat;
    EXPECT_EQ(a.inertia, b.inertia) << repeat;
  }
}

TEST(Kmeans, DegenerateInputs) {
  // k > n: no clustering, a reason.
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(3, 4);
  KmeansResult r = kmeans(x, 5);
  EXPECT_TRUE(std::isnan(r.inertia));
  EXPECT_FALSE(r.nan_reason.empty());
  EXPECT_TRUE(r.labels.empty());
  // k == n: every point its own centre.
  r = kmeans(x, 4);
  EXPECT_NEAR(r.inertia, 0.0, 1e-10);
  // All points identical (all-zero latent space), more clusters than distinct points.
  r = kmeans(Eigen::MatrixXf::Zero(8, 30), 5);
  EXPECT_TRUE(r.nan_reason.empty());
  EXPECT_EQ(r.inertia, 0.0);
  for (int l : r.labels) EXPECT_TRUE(l >= 0 && l < 5);
  // Two distinct points repeated, k = 3.
  Eigen::MatrixXf two = Eigen::MatrixXf::Zero(2, 20);
  two.rightCols(10).setOnes();
  r = kmeans(two, 3);
  EXPECT_NEAR(r.inertia, 0.0, 1e-10);
  // Non-finite values.
  x(0, 0) = std::numeric_limits<float>::quiet_NaN();
  r = kmeans(x, 2);
  EXPECT_EQ(r.nan_reason, "non-finite latent values");
  EXPECT_THROW(kmeans(x, 0), AnalysisError);
  KmeansOptions bad;
  bad.n_init = 0;
  EXPECT_THROW(kmeans(x, 2, bad), AnalysisError);
}

TEST(KmeansSweep, InertiaDecreasesAndSilhouetteMatchesLabels) {
  const auto f = fixtures::load_fixture("blobs_600x20");
  KmeansSweepOptions o;
  o.k_min = 2;
  o.k_max = 7;
  o.kmeans.n_init = 3;
  o.kmeans.threads = 2;
  const auto sweep = kmeans_sweep(f.points, o);
  ASSERT_EQ(sweep.size(), 6u);
  for (std::size_t t = 0; t < sweep.size(); ++t) {
    EXPECT_EQ(sweep[t].k, static_cast<int>(t) + 2);
    EXPECT_TRUE(sweep[t].nan_reason.empty());
    EXPECT_GT(sweep[t].silhouette, -1.0);
    EXPECT_LE(sweep[t].silhouette, 1.0);
    if (t > 0) {
      EXPECT_LT(sweep[t].inertia, sweep[t - 1].inertia * 1.001);
    }
  }
  // Five true blobs: the silhouette peaks at k = 5.
  int best = 0;
  for (std::size_t t = 1; t < sweep.size(); ++t)
    if (sweep[t].silhouette > sweep[best].silhouette) best = static_cast<int>(t);
  EXPECT_EQ(sweep[best].k, 5);
  KmeansOptions ko = o.kmeans;
  const KmeansResult km = kmeans(f.points, 4, ko);
  EXPECT_NEAR(sweep[2].silhouette, silhouette(f.points, km.labels).score, 1e-9);
  // k beyond n gives NaN entries, not an error.
  o.k_min = 599;
  o.k_max = 601;
  o.kmeans.n_init = 1;
  const auto tail = kmeans_sweep(f.points, o);
  EXPECT_TRUE(std::isnan(tail[2].inertia));
  EXPECT_FALSE(tail[2].nan_reason.empty());
}
