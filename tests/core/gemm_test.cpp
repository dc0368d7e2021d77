// The matrix-product backend: every transposition and accumulation case against a float64
// reference, bf16 rounding, bf16 products, and the autoencoder's bf16 step against its fp32 step.
#include "aesweep/core/gemm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <tuple>

#include "aesweep/core/autoencoder.hpp"

namespace aesweep {
namespace {

Eigen::MatrixXf random_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Eigen::MatrixXf m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = u(gen);
  return m;
}

// The reference op(A) op(B) in float64.
Eigen::MatrixXd reference(const Eigen::MatrixXf& a, bool ta, const Eigen::MatrixXf& b, bool tb) {
  const Eigen::MatrixXd A = a.cast<double>(), B = b.cast<double>();
  const Eigen::MatrixXd opa = ta ? Eigen::MatrixXd(A.transpose()) : A;
  const Eigen::MatrixXd opb = tb ? Eigen::MatrixXd(B.transpose()) : B;
  return opa * opb;
}

TEST(Gemm, EveryTranspositionAndAccumulationMatchesFloat64) {
  const Eigen::Index m = 37, n = 29, k = 53;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (bool accumulate : {false, true}) {
        const Eigen::MatrixXf a = ta ? random_matrix(k, m, 1) : random_matrix(m, k, 1);
        const Eigen::MatrixXf b = tb ? random_matrix(n, k, 2) : random_matrix(k, n, 2);
        // C lives in a taller matrix: leading dimension larger than its rows, as a block of columns is.
        Eigen::MatrixXf storage = random_matrix(m + 5, n, 3);
        const Eigen::MatrixXf before = storage;
        auto c = storage.topRows(m);
        gemm::product(c, a, ta, b, tb, accumulate);
        Eigen::MatrixXd expected = reference(a, ta, b, tb);
        if (accumulate) expected += before.topRows(m).cast<double>();
        const double error = (c.cast<double>() - expected).cwiseAbs().maxCoeff();
        EXPECT_LT(error, 1e-4) << "ta=" << ta << " tb=" << tb << " accumulate=" << accumulate;
        // The rows below C are untouched.
        EXPECT_EQ(storage.bottomRows(5), before.bottomRows(5));
      }
}

TEST(Gemm, OverwriteIgnoresNaNInTheOutputAndEmptyInnerDimensionGivesZeroOrKeepsC) {
  const Eigen::MatrixXf a = random_matrix(8, 6, 4), b = random_matrix(6, 7, 5);
  Eigen::MatrixXf c = Eigen::MatrixXf::Constant(8, 7, std::numeric_limits<float>::quiet_NaN());
  gemm::product(c, a, false, b, false, false);
  EXPECT_TRUE(c.allFinite());
  Eigen::MatrixXf empty_a(8, 0), empty_b(0, 7);
  Eigen::MatrixXf kept = Eigen::MatrixXf::Constant(8, 7, 2.5f);
  gemm::product(kept, empty_a, false, empty_b, false, true);
  EXPECT_TRUE((kept.array() == 2.5f).all());
  gemm::product(kept, empty_a, false, empty_b, false, false);
  EXPECT_TRUE((kept.array() == 0.0f).all());
}

TEST(Gemm, SameProductTwiceGivesTheSameBits) {
  const Eigen::MatrixXf a = random_matrix(196, 784, 6), b = random_matrix(784, 256, 7);
  Eigen::MatrixXf c1(196, 256), c2(196, 256);
  gemm::product(c1, a, false, b, false, false);
  gemm::product(c2, a, false, b, false, false);
  EXPECT_EQ(std::memcmp(c1.data(), c2.data(), sizeof(float) * std::size_t(c1.size())), 0);
}

// Software round-to-nearest-even, the definition the vectorised conversion must follow (for
// normal numbers; subnormals are checked below).
gemm::bf16 rounded(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return gemm::bf16((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float of_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Subnormal inputs become zero of the same sign, as the AVX512_BF16 instruction makes them, so a
// value converts alike in the vector body, in the scalar tail and in a build without the
// instruction. Plain rounding would keep 0x007fffff as the bf16 subnormal 0x0080, where the
// instruction gives 0x0000 (checked on AMD Zen 5).
TEST(Gemm, Bf16FlushesSubnormalsToSignedZeroInBodyAndTail) {
  const std::uint32_t subnormals[] = {0x00000001u, 0x80000001u, 0x007fffffu, 0x807fffffu, 0x00400000u, 0x00017fffu};
  const std::uint32_t normals[] = {0x00800000u, 0x0080ffffu, 0x80800000u};  // the smallest normals stay
  for (int offset : {0, 16, 33}) {  // vector body (where the CPU has one) and scalar tail
    std::vector<float> in(40, 1.0f);
    int i = offset;
    for (auto u : subnormals) in[i++ % 40] = of_bits(u);
    for (auto u : normals) in[i++ % 40] = of_bits(u);
    std::vector<gemm::bf16> out(in.size());
    gemm::to_bf16(in.data(), out.data(), Eigen::Index(in.size()));
    i = offset;
    for (auto u : subnormals) {
      EXPECT_EQ(out[i % 40], gemm::bf16((u >> 16) & 0x8000u)) << std::hex << u << " at " << std::dec << i % 40;
      ++i;
    }
    for (auto u : normals) {
      EXPECT_EQ(out[i % 40], rounded(of_bits(u))) << std::hex << u << " at " << std::dec << i % 40;
      ++i;
    }
  }
}

TEST(Gemm, Bf16RoundingIsNearestEvenAndKeepsSpecialValues) {
  std::mt19937 gen(8);
  std::uniform_real_distribution<float> u(-1e4f, 1e4f);
  std::vector<float> values(1000);
  for (auto& v : values) v = u(gen);
  // Exact ties: 1 + 2^-8 lies halfway between two bf16 values and rounds to the even one (1.0);
  // 1 + 3 * 2^-8 rounds up to the even 1 + 2^-6.
  values[0] = 1.0f + std::ldexp(1.0f, -8);
  values[1] = 1.0f + 3 * std::ldexp(1.0f, -8);
  std::vector<gemm::bf16> out(values.size());
  gemm::to_bf16(values.data(), out.data(), Eigen::Index(values.size()));  // vectorised where the CPU can
  for (std::size_t i = 0; i < values.size(); ++i) ASSERT_EQ(out[i], rounded(values[i])) << values[i];
  EXPECT_EQ(gemm::from_bf16(out[0]), 1.0f);
  EXPECT_EQ(gemm::from_bf16(out[1]), 1.0f + std::ldexp(1.0f, -6));
  // 17 specials: more than one vector, so both the vector and the scalar tail see them.
  std::vector<float> specials(17, std::numeric_limits<float>::quiet_NaN());
  specials[1] = std::numeric_limits<float>::infinity();
  specials[2] = -std::numeric_limits<float>::infinity();
  specials[3] = std::numeric_limits<float>::max();  // rounds up past the largest bf16: infinity
  std::uint32_t small_payload = 0x7f800001u;         // a NaN that naive rounding would turn into infinity
  std::memcpy(&specials[4], &small_payload, 4);
  std::memcpy(&specials[16], &small_payload, 4);
  std::vector<gemm::bf16> s(specials.size());
  gemm::to_bf16(specials.data(), s.data(), Eigen::Index(specials.size()));
  EXPECT_TRUE(std::isnan(gemm::from_bf16(s[0])));
  EXPECT_EQ(gemm::from_bf16(s[1]), std::numeric_limits<float>::infinity());
  EXPECT_EQ(gemm::from_bf16(s[2]), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(gemm::from_bf16(s[3]), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(gemm::from_bf16(s[4])));
  EXPECT_TRUE(std::isnan(gemm::from_bf16(s[16])));
}

std::vector<gemm::bf16> to_bf16(const Eigen::MatrixXf& m) {
  std::vector<gemm::bf16> out(std::size_t(m.size()));
  gemm::to_bf16(m.data(), out.data(), m.size());
  return out;
}

Eigen::MatrixXf from_bf16(const std::vector<gemm::bf16>& v, Eigen::Index rows, Eigen::Index cols) {
  Eigen::MatrixXf m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = gemm::from_bf16(v[std::size_t(i)]);
  return m;
}

TEST(Gemm, Bf16ProductsAccumulateInFloatFromRoundedOperands) {
  if (!gemm::bf16_supported()) GTEST_SKIP() << gemm::bf16_unsupported_reason();
  const Eigen::Index m = 64, n = 48, k = 784;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (bool accumulate : {false, true}) {
        const Eigen::MatrixXf a = ta ? random_matrix(k, m, 9) : random_matrix(m, k, 9);
        const Eigen::MatrixXf b = tb ? random_matrix(n, k, 10) : random_matrix(k, n, 10);
        const auto a16 = to_bf16(a), b16 = to_bf16(b);
        Eigen::MatrixXf storage = random_matrix(m + 3, n, 11);
        const Eigen::MatrixXf before = storage;
        gemm::bf16gemm(ta, tb, m, n, k, a16.data(), a.rows(), b16.data(), b.rows(), accumulate, storage.data(),
                       storage.outerStride());
        // Products of bf16 values are exact in float; only the fp32 sums round.
        Eigen::MatrixXd expected =
            reference(from_bf16(a16, a.rows(), a.cols()), ta, from_bf16(b16, b.rows(), b.cols()), tb);
        if (accumulate) expected += before.topRows(m).cast<double>();
        EXPECT_LT((storage.topRows(m).cast<double>() - expected).cwiseAbs().maxCoeff(), 1e-4)
            << "ta=" << ta << " tb=" << tb << " accumulate=" << accumulate;
        EXPECT_EQ(storage.bottomRows(3), before.bottomRows(3));
        // And within bf16's precision of the fp32 product.
        const Eigen::MatrixXd exact = reference(a, ta, b, tb);
        EXPECT_LT((storage.topRows(m).cast<double>() - (accumulate ? Eigen::MatrixXd(exact + before.topRows(m).cast<double>()) : exact))
                      .cwiseAbs()
                      .maxCoeff(),
                  0.05 * exact.cwiseAbs().maxCoeff());
      }
}

TEST(Gemm, Bf16IsRefusedWhereItCannotRun) {
  if (gemm::bf16_supported()) {
    EXPECT_TRUE(gemm::bf16_unsupported_reason().empty());
  } else {
    EXPECT_FALSE(gemm::bf16_unsupported_reason().empty());
    ModelOptions model;
    Autoencoder<float> ae(model, RegularizerOptions{});
    EXPECT_THROW(ae.set_precision(Precision::bf16), std::logic_error);
  }
  ModelOptions model;
  Autoencoder<double> ae(model, RegularizerOptions{});
  EXPECT_THROW(ae.set_precision(Precision::bf16), std::logic_error);
}

TEST(Gemm, DescriptionsNameBackendAndCpu) {
  EXPECT_NE(gemm::backend_description().find(gemm::backend_name()), std::string::npos);
  EXPECT_FALSE(gemm::backend_version().empty());
  EXPECT_FALSE(gemm::cpu_description().empty());
}

// One training step in bf16 against the same step in fp32: the same objective and a gradient
// within bf16's precision. ReLU with the activity, kernel and contractive penalties and dropout;
// sigmoid with KL sparsity (KL's gradient switches off where a ReLU unit's mean activation passes
// 1, so a ReLU model would compare steps across that switch, not precisions).
void expect_bf16_step_follows_fp32(Activation encoder, const RegularizerOptions& reg, bool dropout) {
  ModelOptions model;
  model.input_size = 784;
  model.hidden = 196;
  model.encoder_activation = encoder;
  std::mt19937 gen(12);
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  Eigen::MatrixXf x(784, 256);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = pixel(gen);
  Eigen::MatrixXf mask = Eigen::MatrixXf::Constant(196, 256, 1.5f);
  for (Eigen::Index i = 0; i < mask.size(); i += 3) mask.data()[i] = 0.0f;
  Autoencoder<float> fp32(model, reg), bf16(model, reg);
  fp32.initialize(7);
  bf16.initialize(7);
  bf16.set_precision(Precision::bf16);
  fp32.reserve(256);
  bf16.reserve(256);
  ParameterSet<float> g32(784, 196), g16(784, 196);
  const BatchObjective o32 = fp32.forward_backward(x, x, dropout ? &mask : nullptr, g32);
  const BatchObjective o16 = bf16.forward_backward(x, x, dropout ? &mask : nullptr, g16);
  EXPECT_NEAR(o16.loss, o32.loss, 0.01 * o32.loss);
  EXPECT_NEAR(o16.penalty, o32.penalty, 0.02 * o32.penalty);
  for (const auto& [name, a, b] : {std::tuple{"W1", Eigen::MatrixXf(g16.w1()), Eigen::MatrixXf(g32.w1())},
                                   std::tuple{"b1", Eigen::MatrixXf(g16.b1()), Eigen::MatrixXf(g32.b1())},
                                   std::tuple{"W2", Eigen::MatrixXf(g16.w2()), Eigen::MatrixXf(g32.w2())},
                                   std::tuple{"b2", Eigen::MatrixXf(g16.b2()), Eigen::MatrixXf(g32.b2())}}) {
    const double relative = (a - b).norm() / b.norm();
    EXPECT_LT(relative, 0.02) << name;
    EXPECT_GT(relative, 0.0) << name << ": the step did not run in bf16";
  }
}

TEST(Gemm, AutoencoderBf16StepFollowsTheFp32Step) {
  if (!gemm::bf16_supported()) GTEST_SKIP() << gemm::bf16_unsupported_reason();
  RegularizerOptions reg;
  reg.l1_activity = 1e-4;
  reg.l2_kernel = 1e-4;
  reg.contractive = 1e-3;
  expect_bf16_step_follows_fp32(Activation::relu, reg, true);
  RegularizerOptions kl;
  kl.kl_beta = 0.1;
  expect_bf16_step_follows_fp32(Activation::sigmoid, kl, false);
}

}  // namespace
}  // namespace aesweep
