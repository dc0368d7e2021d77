// Input corruption for denoising autoencoders: statistics of each noise kind on real MNIST
// digits, determinism, and that the clean input is untouched.
#include <gtest/gtest.h>

#include <cmath>

#include "aesweep/core/corruption.hpp"
#include "support/test_support.hpp"

namespace aesweep {
namespace {

class Corruption : public ::testing::Test {
 protected:
  void SetUp() override {
    const Dataset& data = test::mnist(300, 10);
    clean_ = data.train_images;  // 784 x 300 real digits, 235,200 values
    out_.resize(clean_.rows(), clean_.cols());
  }
  Eigen::MatrixXf run(NoiseKind kind, double level, std::uint64_t seed = 1) {
    NoiseOptions noise;
    noise.kind = kind;
    noise.level = level;
    Rng rng(seed);
    const Eigen::MatrixXf before = clean_;
    corrupt(noise, clean_, out_, rng);
    EXPECT_EQ(clean_, before) << "the clean batch must not change";
    return out_;
  }
  Eigen::MatrixXf clean_, out_;
};

TEST_F(Corruption, NoneCopies) { EXPECT_EQ(run(NoiseKind::none, 0.5), clean_); }

TEST_F(Corruption, GaussianAddsZeroMeanNoiseOfSigmaLevel) {
  const Eigen::ArrayXXf d = (run(NoiseKind::gaussian, 0.3) - clean_).array();
  const double mean = d.cast<double>().mean();
  const double sd = std::sqrt((d.cast<double>() - mean).square().mean());
  EXPECT_NEAR(mean, 0.0, 0.005);
  EXPECT_NEAR(sd, 0.3, 0.005);
  // No clipping (Keras GaussianNoise): values leave [0, 1].
  EXPECT_LT(out_.minCoeff(), -0.5f);
  EXPECT_GT(out_.maxCoeff(), 1.5f);
}

TEST_F(Corruption, MaskingZeroesTheGivenFractionAndKeepsTheRest) {
  const Eigen::MatrixXf out = run(NoiseKind::masking, 0.25);
  const auto nonzero_clean = (clean_.array() != 0.0f);
  const double zeroed = double((nonzero_clean && out.array() == 0.0f).count()) / double(nonzero_clean.count());
  // Binomial fraction over ~45,000 nonzero pixels: sd 0.002.
  EXPECT_NEAR(zeroed, 0.25, 0.012);
  // Every value is either kept or zeroed.
  EXPECT_TRUE(((out.array() == clean_.array()) || (out.array() == 0.0f)).all());
}

TEST_F(Corruption, SaltPepperSetsTheFractionToZeroOrOneEqually) {
  const Eigen::MatrixXf out = run(NoiseKind::salt_pepper, 0.2);
  const auto changed_to_one = (out.array() == 1.0f) && (clean_.array() != 1.0f);
  const auto changed_to_zero = (out.array() == 0.0f) && (clean_.array() != 0.0f);
  // Among pixels neither 0 nor 1, a fraction 0.1 becomes 0 and 0.1 becomes 1.
  const auto grey = (clean_.array() != 0.0f) && (clean_.array() != 1.0f);
  const double n_grey = double(grey.count());
  ASSERT_GT(n_grey, 10000);
  EXPECT_NEAR(double((grey && changed_to_one).count()) / n_grey, 0.1, 0.01);
  EXPECT_NEAR(double((grey && changed_to_zero).count()) / n_grey, 0.1, 0.01);
  EXPECT_TRUE(((out.array() == clean_.array()) || (out.array() == 0.0f) || (out.array() == 1.0f)).all());
}

TEST_F(Corruption, UniformAddsBoundedNoise) {
  const Eigen::ArrayXXf d = (run(NoiseKind::uniform, 0.1) - clean_).array();
  EXPECT_LE(d.abs().maxCoeff(), 0.1f + 1e-6f);
  EXPECT_GT(d.abs().maxCoeff(), 0.099f);
  EXPECT_NEAR(d.cast<double>().mean(), 0.0, 0.002);
  // Variance of U(-a, a) is a^2 / 3.
  EXPECT_NEAR(d.cast<double>().square().mean(), 0.01 / 3, 0.0002);
}

TEST_F(Corruption, SameSeedSameNoiseDifferentSeedDifferentNoise) {
  for (auto kind : {NoiseKind::gaussian, NoiseKind::masking, NoiseKind::salt_pepper, NoiseKind::uniform}) {
    const Eigen::MatrixXf a = run(kind, 0.3, 7);
    const Eigen::MatrixXf b = run(kind, 0.3, 7);
    const Eigen::MatrixXf c = run(kind, 0.3, 8);
    EXPECT_EQ(a, b) << to_string(kind);
    EXPECT_NE(a, c) << to_string(kind);
  }
}

TEST_F(Corruption, LevelZeroLeavesTheInputUnchanged) {
  EXPECT_EQ(run(NoiseKind::masking, 0.0), clean_);
  EXPECT_EQ(run(NoiseKind::salt_pepper, 0.0), clean_);
  EXPECT_EQ(run(NoiseKind::gaussian, 0.0), clean_);
}

}  // namespace
}  // namespace aesweep
