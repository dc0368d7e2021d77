#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "aesweep/analysis/error.hpp"
#include "fixture.hpp"
#include "aesweep/analysis/neighbors.hpp"

using namespace aesweep::analysis;

namespace {

using fixtures::random_points;

}  // namespace

TEST(ExactKnn, HandCheckedLine) {
  Eigen::MatrixXf x(1, 4);
  x << 0, 1, 3, 7;
  const KnnResult r = exact_knn(x, 2);
  EXPECT_EQ(r.indices(0, 0), 1);
  EXPECT_EQ(r.indices(1, 0), 2);
  EXPECT_FLOAT_EQ(r.squared_distances(0, 0), 1.0f);
  EXPECT_FLOAT_EQ(r.squared_distances(1, 0), 9.0f);
  EXPECT_EQ(r.indices(0, 3), 2);  // 7 -> 3 (16), then 1 (36)
  EXPECT_EQ(r.indices(1, 3), 1);
  EXPECT_FLOAT_EQ(r.squared_distances(1, 3), 36.0f);
}

TEST(ExactKnn, MatchesBruteForceAcrossBlocksAndThreads) {
  const Eigen::MatrixXf x = random_points(7, 2300, 3);  // > one column block
  const int k = 6;
  const KnnResult r1 = exact_knn(x, k, KnnOptions{1});
  const KnnResult r2 = exact_knn(x, k, KnnOptions{2});
  EXPECT_EQ(r1.indices, r2.indices);
  for (int i = 0; i < x.cols(); i += 37) {
    std::vector<std::pair<double, int>> all;
    for (int j = 0; j < x.cols(); ++j)
      if (j != i) all.emplace_back((x.col(i).cast<double>() - x.col(j).cast<double>()).squaredNorm(), j);
    std::sort(all.begin(), all.end());
    for (int m = 0; m < k; ++m) {
      EXPECT_EQ(r1.indices(m, i), all[m].second) << "point " << i << " rank " << m;
      EXPECT_NEAR(r1.squared_distances(m, i), all[m].first, 1e-5 * all[m].first);
    }
  }
}

TEST(ExactKnn, DuplicatesTieBreakBySmallerIndex) {
  Eigen::MatrixXf x = Eigen::MatrixXf::Zero(3, 5);  // all identical
  const KnnResult r = exact_knn(x, 3);
  EXPECT_EQ(r.indices(0, 0), 1);
  EXPECT_EQ(r.indices(1, 0), 2);
  EXPECT_EQ(r.indices(2, 0), 3);
  EXPECT_EQ(r.indices(0, 4), 0);
  EXPECT_EQ(r.squared_distances.maxCoeff(), 0.0f);
}

TEST(ExactKnn, RejectsBadArguments) {
  Eigen::MatrixXf x = random_points(2, 5, 1);
  EXPECT_EQ(exact_knn(x, 0).indices.size(), 0);
  EXPECT_THROW(exact_knn(x, 5), AnalysisError);
  EXPECT_THROW(exact_knn(x, 1, KnnOptions{0}), AnalysisError);
  x(0, 2) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(exact_knn(x, 1), AnalysisError);
}
