#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "aesweep/analysis/error.hpp"
#include "aesweep/analysis/knn_accuracy.hpp"
#include "fixture.hpp"

using namespace aesweep::analysis;

TEST(KnnAccuracy, MatchesNumpyReference) {
  for (const auto& name : fixtures::fixture_names()) {
    const auto f = fixtures::load_fixture(name);
    const KnnAccuracyResult r = knn_accuracy(f.points, f.labels, KnnAccuracyOptions{5, 2});
    ASSERT_TRUE(r.nan_reason.empty());
    EXPECT_NEAR(r.accuracy, f.num("knn5_accuracy"), 1.5 / f.points.cols()) << name;
  }
}

TEST(KnnAccuracy, HandChecked) {
  Eigen::MatrixXf x(1, 6);
  x << 0, 1, 2, 10, 11, 30;
  // k = 1: 0->1 (A ok), 1->0 (A ok), 2->1 (A ok), 10->11 (B ok), 11->10 (B ok), 30->11 (B vs A: wrong).
  const KnnAccuracyResult r = knn_accuracy(x, {0, 0, 0, 1, 1, 0}, KnnAccuracyOptions{1, 1});
  EXPECT_NEAR(r.accuracy, 5.0 / 6.0, 1e-12);
  ASSERT_EQ(r.per_class_accuracy.size(), 2u);
  EXPECT_NEAR(r.per_class_accuracy[0], 3.0 / 4.0, 1e-12);
  EXPECT_NEAR(r.per_class_accuracy[1], 1.0, 1e-12);
  // Vote tie (k = 2, one neighbour of each class) goes to the smaller label.
  Eigen::MatrixXf y(1, 3);
  y << 0, -1, 1;
  const KnnAccuracyResult t = knn_accuracy(y, {3, 5, 3}, KnnAccuracyOptions{2, 1});
  // Point 0: neighbours 1 (label 5) and 2 (label 3) tie -> 3: correct. Point 1: 3, 3 ->
  // wrong. Point 2: neighbours 0 (3) and 1 (5) tie -> 3: correct.
  EXPECT_NEAR(t.accuracy, 2.0 / 3.0, 1e-12);
}

TEST(KnnAccuracy, DegenerateInputs) {
  Eigen::MatrixXf x = Eigen::MatrixXf::Zero(4, 10);  // all identical: ties by index
  std::vector<int> labels(10, 2);
  KnnAccuracyResult r = knn_accuracy(x, labels);
  EXPECT_EQ(r.accuracy, 1.0);
  r = knn_accuracy(x, labels, KnnAccuracyOptions{10, 1});
  EXPECT_TRUE(std::isnan(r.accuracy));
  EXPECT_FALSE(r.nan_reason.empty());
  x(1, 1) = std::numeric_limits<float>::quiet_NaN();
  r = knn_accuracy(x, labels);
  EXPECT_EQ(r.nan_reason, "non-finite latent values");
  EXPECT_THROW(knn_accuracy(x, {1, 2}), AnalysisError);
  EXPECT_THROW(knn_accuracy(x, labels, KnnAccuracyOptions{0, 1}), AnalysisError);
}

// Identical codes of several classes: every neighbour ties, so no accuracy is defined (it used
// to be whatever the points first in order voted, 0.5 here); NaN with the reason, as the
// silhouette and t-SNE give.
TEST(KnnAccuracy, IdenticalCodesOfSeveralClassesHaveNoAccuracy) {
  const Eigen::MatrixXf x = Eigen::MatrixXf::Zero(4, 10);
  std::vector<int> labels(10, 0);
  for (int i = 5; i < 10; ++i) labels[std::size_t(i)] = 1;
  const KnnAccuracyResult r = knn_accuracy(x, labels);
  EXPECT_TRUE(std::isnan(r.accuracy));
  EXPECT_NE(r.nan_reason.find("every latent code is identical"), std::string::npos) << r.nan_reason;
  for (double a : r.per_class_accuracy) EXPECT_TRUE(std::isnan(a));
}
