// aesweep-analyze's work over the ranks (coordinate_analysis / serve_analysis) in one process
// with the fake communicator of tests/dist, and the byte forms its messages take: whatever the
// rank count, every run is analysed once and its results equal a serial analysis bit for bit.
#include "app/run_analysis.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "dist/fake_communicator.hpp"
#include "fixture.hpp"

namespace aesweep::analysis {
namespace {

class RunAnalysisRanks : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.kmeans.k_min = 2;
    options_.kmeans.k_max = 4;
    options_.kmeans.kmeans.n_init = 2;
    options_.tsne.perplexity = 5;
    options_.tsne.n_iter = 300;
    options_.cosine.histogram_bins = 8;
    options_.knn.k = 3;
    for (int i = 0; i < n_; ++i) labels_.push_back(i % 3);
    // Run r's codes: 4 + r % 3 latent units (runs differ in shape, as in a sweep), shifted by class.
    for (std::int64_t run = 0; run < 9; ++run) {
      Eigen::MatrixXf codes = fixtures::random_points(4 + int(run % 3), n_, unsigned(100 + run));
      for (int j = 0; j < n_; ++j) codes(0, j) += 3.0f * float(labels_[std::size_t(j)]);
      latent_[run] = codes;
    }
  }

  // The run's results with the timing zeroed, as bytes: equal bytes mean equal results.
  static Bytes comparable(RunAnalysis a) {
    a.seconds = 0;
    return serialize(a);
  }

  std::map<std::int64_t, RunAnalysis> analyse_on(int ranks, const std::vector<std::int64_t>& runs) {
    std::map<std::int64_t, RunAnalysis> recorded;
    AnalysisSource source;
    source.runs = runs;
    source.read_latent = [&](std::int64_t run) { return latent_.at(run); };
    source.record = [&](const RunAnalysis& a) {
      EXPECT_EQ(recorded.count(a.run), 0u) << "run " << a.run << " recorded twice";
      recorded[a.run] = a;
    };
    aesweep::testing::FakeNetwork net(ranks);
    aesweep::testing::run_ranks(net, [&](Communicator& comm) {
      if (comm.rank() == 0) coordinate_analysis(comm, source, labels_, options_);
      else serve_analysis(comm, labels_, options_);
    });
    EXPECT_EQ(net.undelivered(), 0u);
    return recorded;
  }

  const int n_ = 60;
  AnalysisOptions options_;
  std::vector<int> labels_;
  std::map<std::int64_t, Eigen::MatrixXf> latent_;
};

TEST_F(RunAnalysisRanks, AnyRankCountGivesTheSerialResults) {
  const std::vector<std::int64_t> runs = {0, 1, 2, 3, 5, 6, 7, 8};  // run 4 is not asked for
  std::map<std::int64_t, Bytes> serial;
  for (const auto run : runs) serial[run] = comparable(analyze_latent(run, latent_.at(run), labels_, options_));
  for (const int ranks : {1, 2, 4}) {
    const auto recorded = analyse_on(ranks, runs);
    ASSERT_EQ(recorded.size(), runs.size()) << ranks << " ranks";
    for (const auto& [run, result] : recorded) {
      ASSERT_TRUE(serial.count(run)) << "run " << run << " was not asked for";
      EXPECT_EQ(comparable(result), serial[run]) << "run " << run << " on " << ranks << " ranks";
      EXPECT_EQ(result.tsne_embedding.cols(), n_);
      EXPECT_EQ(result.tsne_method, "barnes-hut");  // auto, few points
      EXPECT_EQ(result.tsne_method_parameters, "barnes-hut theta=0.5");
    }
  }
}

// Codes of any magnitude a float holds give the scores of the same codes at an ordinary scale:
// huge ones (a diverged run) used to overflow the squared distances (NaN silhouette without a
// reason, kNN and k-means at chance, a wrong trustworthiness), tiny ones to underflow them. By a
// power of two the results are the same bit for bit (the k-means inertia in the codes' units);
// by 1e25 they agree to rounding, and t-SNE's within the spread any rounding of its input gives
// it (codes times 3, not rescaled, move its trustworthiness by 0.02 and its KL by 0.2 here).
TEST_F(RunAnalysisRanks, CodesOfAnyMagnitudeGiveTheScoresOfOrdinaryCodes) {
  const Eigen::MatrixXf& raw = latent_.at(0);
  const Eigen::MatrixXf codes = raw * std::ldexp(1.0f, -std::ilogb(raw.cwiseAbs().maxCoeff()));  // largest in [1, 2)
  const RunAnalysis plain = analyze_latent(0, codes, labels_, options_);
  ASSERT_TRUE(plain.silhouette_reason.empty() && std::isfinite(plain.silhouette));
  for (const int exponent : {-64, -40, 40, 64, 100}) {
    RunAnalysis scaled = analyze_latent(0, codes * std::ldexp(1.0f, exponent), labels_, options_);
    ASSERT_EQ(scaled.kmeans.size(), plain.kmeans.size());
    for (std::size_t i = 0; i < plain.kmeans.size(); ++i) {
      EXPECT_EQ(scaled.kmeans[i].inertia, std::ldexp(plain.kmeans[i].inertia, 2 * exponent)) << exponent;
      scaled.kmeans[i].inertia = plain.kmeans[i].inertia;
    }
    EXPECT_EQ(comparable(scaled), comparable(plain)) << "codes times 2^" << exponent;
  }
  for (const float factor : {1e25f, 1e-25f}) {
    const RunAnalysis scaled = analyze_latent(0, codes * factor, labels_, options_);
    EXPECT_NEAR(scaled.silhouette, plain.silhouette, 1e-5) << factor;
    EXPECT_EQ(scaled.knn.accuracy, plain.knn.accuracy) << factor;
    EXPECT_NEAR(scaled.trustworthiness, plain.trustworthiness, 0.05) << factor;
    EXPECT_NEAR(scaled.tsne_kl, plain.tsne_kl, 0.5 * plain.tsne_kl) << factor;
    for (std::size_t i = 0; i < plain.kmeans.size(); ++i) {
      EXPECT_NEAR(scaled.kmeans[i].silhouette, plain.kmeans[i].silhouette, 1e-5) << factor;
      EXPECT_NEAR(scaled.kmeans[i].inertia / (double(factor) * double(factor)), plain.kmeans[i].inertia,
                  1e-4 * plain.kmeans[i].inertia)
          << factor;
    }
  }
}

// Huge and tiny codes in one run: rescaled for the distances, the tiny ones would become zero
// codes; the cosine statistics (scale-free) still see every code with its direction.
TEST_F(RunAnalysisRanks, TinyCodesBesideHugeOnesKeepTheirDirections) {
  Eigen::MatrixXf codes = latent_.at(0);
  for (Eigen::Index j = 0; j < codes.cols(); ++j) codes.col(j) *= j % 2 ? 1e20f : 1e-26f;
  const RunAnalysis a = analyze_latent(0, codes, labels_, options_);
  EXPECT_EQ(a.cosine.zero_rows, 0);
  EXPECT_EQ(a.cosine.points_used, codes.cols());
}

// The options text (its hash names the results group) carries the method and its parameters.
TEST(RunAnalysisOptions, DescribeNamesTheTsneMethod) {
  AnalysisOptions o;
  const std::string auto_text = o.describe();
  EXPECT_NE(auto_text.find("\ntsne.method=auto\n"), std::string::npos);
  EXPECT_NE(auto_text.find("\ntsne.fft_interpolation_points=0\n"), std::string::npos);
  o.tsne.method = TsneMethod::Fft;
  EXPECT_NE(o.describe(), auto_text);
  o.tsne.method = TsneMethod::Auto;
  o.tsne.fft_interpolation_points = 5;
  EXPECT_NE(o.describe(), auto_text);
}

TEST_F(RunAnalysisRanks, NothingToAnalyseEndsEveryRank) {
  EXPECT_TRUE(analyse_on(3, {}).empty());
}

TEST(RunAnalysisBytes, ResultsAndLatentCodesSurviveTheirBytes) {
  RunAnalysis a;
  a.run = 12;
  a.silhouette = 0.5;
  a.silhouette_reason = "why";
  a.kmeans.push_back({3, 1.5, 0.25, 7, "none"});
  a.tsne_embedding = fixtures::random_points(2, 5, 1);
  a.tsne_kl = 0.75;
  a.tsne_method = "fft";
  a.tsne_method_parameters = "fft interpolation_points=4 min_intervals=50 intervals_per_unit=1";
  a.cosine.class_mean = Eigen::MatrixXd::Constant(2, 3, 0.125);
  a.cosine.same.histogram = {1, 2, 3};
  a.cosine.same.quantiles = {0.1, 0.2, 0.3, 0.4, 0.5};
  a.knn.per_class_accuracy = {1.0, 0.5};
  a.seconds = 2.5;
  const Bytes bytes = serialize(a);
  EXPECT_EQ(serialize(deserialize(bytes)), bytes);
  EXPECT_EQ(deserialize(bytes).tsne_method, "fft");
  EXPECT_EQ(deserialize(bytes).tsne_method_parameters, a.tsne_method_parameters);
  for (std::size_t cut : {std::size_t(0), std::size_t(7), bytes.size() / 2, bytes.size() - 1})
    EXPECT_THROW((void)deserialize(std::span<const std::byte>(bytes).first(cut)), Error) << cut;

  const Eigen::MatrixXf latent = fixtures::random_points(6, 11, 2);
  const auto [run, back] = unpack_latent(pack_latent(41, latent));
  EXPECT_EQ(run, 41);
  EXPECT_EQ(back, latent);
}

}  // namespace
}  // namespace aesweep::analysis
