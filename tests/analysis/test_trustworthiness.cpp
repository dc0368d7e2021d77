#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "aesweep/analysis/error.hpp"
#include "fixture.hpp"
#include "aesweep/analysis/trustworthiness.hpp"

using namespace aesweep::analysis;

namespace {

using fixtures::random_points;

// sklearn.manifold.trustworthiness transcribed directly (full distance matrices).
double naive_trustworthiness(const Eigen::MatrixXf& x, const Eigen::MatrixXf& e, int k) {
  const int n = static_cast<int>(x.cols());
  double t = 0.0;
  for (int i = 0; i < n; ++i) {
    std::vector<std::pair<double, int>> dx, de;
    for (int j = 0; j < n; ++j) {
      if (j == i) continue;
      dx.emplace_back((x.col(i).cast<double>() - x.col(j).cast<double>()).squaredNorm(), j);
      de.emplace_back((e.col(i).cast<double>() - e.col(j).cast<double>()).squaredNorm(), j);
    }
    std::sort(dx.begin(), dx.end());
    std::sort(de.begin(), de.end());
    std::vector<int> rank(n, 0);
    for (int r = 0; r < n - 1; ++r) rank[dx[r].second] = r + 1;
    for (int m = 0; m < k; ++m) t += std::max(0, rank[de[m].second] - k);
  }
  return 1.0 - t * (2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)));
}

}  // namespace

TEST(Trustworthiness, PerfectForIdenticalSpaces) {
  const Eigen::MatrixXf x = random_points(5, 300, 1);
  EXPECT_DOUBLE_EQ(trustworthiness(x, x, TrustworthinessOptions{10, 2}).value, 1.0);
}

TEST(Trustworthiness, MatchesDirectFormula) {
  const Eigen::MatrixXf x = random_points(12, 2500, 2);  // spans several column blocks
  Eigen::MatrixXf e = x.topRows(2) + 0.3f * random_points(2, 2500, 3);
  const double ref = naive_trustworthiness(x, e, 7);
  for (int threads : {1, 2}) EXPECT_NEAR(trustworthiness(x, e, TrustworthinessOptions{7, threads}).value, ref, 1e-12);
  const Eigen::MatrixXf small = random_points(4, 60, 4);
  const Eigen::MatrixXf emb = random_points(2, 60, 5);
  EXPECT_NEAR(trustworthiness(small, emb).value, naive_trustworthiness(small, emb, 5), 1e-12);
}

TEST(Trustworthiness, UndefinedCases) {
  Eigen::MatrixXf x = random_points(3, 20, 6);
  Eigen::MatrixXf e = random_points(2, 20, 7);
  TrustworthinessResult r = trustworthiness(x, e, TrustworthinessOptions{10, 1});  // k >= n/2
  EXPECT_TRUE(std::isnan(r.value));
  EXPECT_FALSE(r.nan_reason.empty());
  e(0, 3) = std::numeric_limits<float>::quiet_NaN();
  r = trustworthiness(x, e);
  EXPECT_EQ(r.nan_reason, "non-finite latent values");
  EXPECT_THROW(trustworthiness(x, random_points(2, 19, 1)), AnalysisError);
  EXPECT_THROW(trustworthiness(x, x, TrustworthinessOptions{0, 1}), AnalysisError);
}

TEST(Trustworthiness, DuplicatePointsAreDefined) {
  Eigen::MatrixXf x = Eigen::MatrixXf::Zero(4, 40);
  x.rightCols(20).setOnes();
  const Eigen::MatrixXf e = random_points(2, 40, 8);
  const double t = trustworthiness(x, e).value;
  EXPECT_TRUE(std::isfinite(t));
  EXPECT_NEAR(t, naive_trustworthiness(x, e, 5), 1e-12);
}

// With the original space's kNN lists (as t-SNE passes them), points whose embedding neighbours
// sit inside their list take ranks from it: the value must not change. Embeddings: a good one
// (t-SNE-like: most points listed), a poor one (many scans) and one with exact duplicates.
TEST(Trustworthiness, NeighbourListsGiveTheSameValue) {
  const auto f = fixtures::load_fixture("fashion_1500x32");
  const Eigen::Index n = f.points.cols();
  // A decent 2-D embedding: the two leading coordinates of the (PCA) fixture.
  Eigen::MatrixXf good = f.points.topRows(2);
  Eigen::MatrixXf poor = good + 2.0f * random_points(2, static_cast<int>(n), 3);
  Eigen::MatrixXf dup = good;
  for (Eigen::Index j = 1000; j < n; ++j) dup.col(j) = dup.col(j - 1000);
  for (const int big_k : {91, 30, 12}) {
    const KnnResult lists = exact_knn(f.points, big_k, KnnOptions{2});
    for (const Eigen::MatrixXf* e : {&good, &poor, &dup}) {
      const double full = trustworthiness(f.points, *e, TrustworthinessOptions{10, 2}).value;
      const double listed = trustworthiness(f.points, *e, TrustworthinessOptions{10, 2}, &lists).value;
      EXPECT_EQ(listed, full) << "K " << big_k;
    }
  }
  // Lists of another point set's size are ignored, not trusted.
  const KnnResult other = exact_knn(f.points.leftCols(n - 1), 40, KnnOptions{1});
  EXPECT_EQ(trustworthiness(f.points, good, TrustworthinessOptions{10, 1}, &other).value,
            trustworthiness(f.points, good, TrustworthinessOptions{10, 1}).value);
  EXPECT_NEAR(trustworthiness(f.points, good, TrustworthinessOptions{10, 1}).value,
              naive_trustworthiness(f.points, good, 10), 1e-12);
}
