#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>

#include "aesweep/analysis/cosine_statistics.hpp"
#include "aesweep/analysis/error.hpp"
#include "fixture.hpp"

using namespace aesweep::analysis;

namespace {

void expect_group(const CosineGroupStats& g, const fixtures::Fixture& f, const std::string& name,
                  const std::string& what) {
  const std::string p = "cos_" + name + "_";
  EXPECT_EQ(g.pairs, static_cast<std::uint64_t>(f.num(p + "pairs"))) << what;
  EXPECT_NEAR(g.mean, f.num(p + "mean"), 1e-5) << what;
  EXPECT_NEAR(g.std, f.num(p + "std"), 1e-5) << what;
  const char* q_keys[] = {"q05", "q25", "q50", "q75", "q95"};
  for (int q = 0; q < 5; ++q) EXPECT_NEAR(g.quantiles[q], f.num(p + q_keys[q]), 1e-4) << what << " " << q_keys[q];
  const auto hist = f.nums(p + "hist50");
  ASSERT_EQ(g.histogram.size(), 50u);
  for (int b = 0; b < 50; ++b)  // float rounding may move a pair across a bin edge
    EXPECT_NEAR(static_cast<double>(g.histogram[b]), hist[b], 3.0 + 1e-4 * hist[b]) << what << " bin " << b;
}

}  // namespace

TEST(CosineStatistics, MatchesNumpyFixtures) {
  for (const auto& name : fixtures::fixture_names()) {
    const auto f = fixtures::load_fixture(name);
    CosineOptions o;
    o.threads = 2;
    const CosineStatistics s = cosine_statistics(f.points, f.labels, o);
    ASSERT_TRUE(s.nan_reason.empty());
    EXPECT_EQ(s.zero_rows, 0);
    expect_group(s.same, f, "same", name);
    expect_group(s.different, f, "diff", name);
    const auto m = f.nums("cos_class_mean");
    const auto c = static_cast<Eigen::Index>(s.classes.size());
    ASSERT_EQ(static_cast<std::size_t>(c * c), m.size());
    for (Eigen::Index a = 0; a < c; ++a)
      for (Eigen::Index b = 0; b < c; ++b) EXPECT_NEAR(s.class_mean(a, b), m[a * c + b], 1e-5) << name;
  }
}

TEST(CosineStatistics, HandCheckedWithZeroRows) {
  Eigen::MatrixXf x(2, 5);
  x << 1, 2, 0, 0, 0,  //
      0, 0, 1, 0, -3;
  // Point 3 is zero. Labels: {0: p0, p2}, {1: p1, p3, p4}.
  const CosineStatistics s = cosine_statistics(x, {0, 1, 0, 1, 1});
  EXPECT_EQ(s.zero_rows, 1);
  EXPECT_EQ(s.points_used, 4);
  // Same pairs: (p0,p2) = 0, (p1,p4) = 0. Different: (p0,p1) = 1, (p0,p4) = 0,
  // (p2,p1) = 0, (p2,p4) = -1.
  EXPECT_EQ(s.same.pairs, 2u);
  EXPECT_EQ(s.different.pairs, 4u);
  EXPECT_NEAR(s.same.mean, 0.0, 1e-7);
  EXPECT_NEAR(s.different.mean, 0.0, 1e-7);
  EXPECT_NEAR(s.different.std, std::sqrt(0.5), 1e-6);
  EXPECT_EQ(s.different.histogram.front(), 1u);  // -1 in the first bin
  EXPECT_EQ(s.different.histogram.back(), 1u);   // +1 in the last bin
  EXPECT_NEAR(s.class_mean(0, 1), 0.0, 1e-7);
  EXPECT_NEAR(s.class_mean(1, 1), 0.0, 1e-7);
  EXPECT_NEAR(s.different.quantiles[2], 0.0, 1e-4);
}

TEST(CosineStatistics, DegenerateInputs) {
  CosineStatistics s = cosine_statistics(Eigen::MatrixXf::Zero(8, 20), std::vector<int>(20, 1));
  EXPECT_EQ(s.zero_rows, 20);
  EXPECT_FALSE(s.nan_reason.empty());
  EXPECT_TRUE(std::isnan(s.same.mean));
  EXPECT_EQ(s.same.pairs, 0u);
  Eigen::MatrixXf x = Eigen::MatrixXf::Ones(3, 6);
  s = cosine_statistics(x, {0, 0, 0, 1, 1, 1});  // duplicates: every cosine is 1
  EXPECT_NEAR(s.same.mean, 1.0, 1e-6);
  EXPECT_NEAR(s.different.quantiles[0], 1.0, 1e-4);
  EXPECT_EQ(s.different.histogram.back(), 9u);
  x(0, 0) = std::numeric_limits<float>::quiet_NaN();
  s = cosine_statistics(x, {0, 0, 0, 1, 1, 1});
  EXPECT_EQ(s.nan_reason, "non-finite latent values");
  EXPECT_THROW(cosine_statistics(x, {0, 1}), AnalysisError);
  CosineOptions bad;
  bad.histogram_bins = 0;
  EXPECT_THROW(cosine_statistics(x, {0, 0, 0, 1, 1, 1}, bad), AnalysisError);
}

// Several threads, repeated: the means, deviations and class means are the same bits every run
// (each thread adds the same block pairs in the same order).
TEST(CosineStatistics, RepeatableWithThreads) {
  const Eigen::MatrixXf x = fixtures::random_points(12, 3000, 4);
  std::vector<int> labels(3000);
  for (int i = 0; i < 3000; ++i) labels[i] = (i * 3) % 10;
  CosineOptions o;
  o.threads = 2;
  const CosineStatistics a = cosine_statistics(x, labels, o);
  for (int repeat = 0; repeat < 4; ++repeat) {
    const CosineStatistics b = cosine_statistics(x, labels, o);
    EXPECT_EQ(b.same.mean, a.same.mean) << repeat;
    EXPECT_EQ(b.different.std, a.different.std) << repeat;
    EXPECT_TRUE(b.class_mean == a.class_mean) << repeat;
  }
}

TEST(CosineStatistics, MaxPairsSamplesPoints) {
  const auto f = fixtures::load_fixture("blobs_1200x40");
  CosineOptions o;
  o.max_pairs = 100000;
  o.seed = 2;
  const CosineStatistics s = cosine_statistics(f.points, f.labels, o);
  EXPECT_LE(s.same.pairs + s.different.pairs, 100000u);
  EXPECT_GT(s.points_used, 400);
  EXPECT_NEAR(s.different.mean, f.num("cos_diff_mean"), 0.02);
  o.histogram_bins = 7;  // any bin count
  EXPECT_EQ(cosine_statistics(f.points, f.labels, o).same.histogram.size(), 7u);
}
