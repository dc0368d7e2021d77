// Gradient and objective checks of Autoencoder<double>::forward_backward.
//
// For every encoder activation x (loss, decoder) x regularizer x bias combination:
//  * the reported loss and penalty VALUES equal an independent, loop-by-loop computation of
//    the objective written here from the papers' definitions (not from the production code);
//  * the gradient of objective.total() w.r.t. every parameter equals a central finite
//    difference (step 1e-6, double precision).
//
// Kinks: relu (at z = 0), L1 activity (|h| at h = 0) and L1 kernel (|w| at w = 0) are not
// differentiable. The parameters are drawn so that no pre-activation z1 lies within 1e-3 of 0
// and no weight within 2e-2 of 0 (the fixture asserts both), and an FD step of 1e-6 on one
// parameter moves any z1 by at most 1e-6 * max(|x|, 1, |w|) < 1e-3, so no finite difference
// crosses a kink.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <tuple>

#include "aesweep/core/autoencoder.hpp"
#include "aesweep/core/random.hpp"

namespace aesweep {
namespace {

constexpr int kInput = 14;
constexpr int kHidden = 6;
constexpr int kBatch = 5;

enum class Reg { none, l1_activity, l2_activity, l1_kernel, l2_kernel, l1_kernel_both, l2_kernel_both, kl, contractive,
                 dropout };
const Reg kAllRegs[] = {Reg::none,           Reg::l1_activity,    Reg::l2_activity, Reg::l1_kernel,
                        Reg::l2_kernel,      Reg::l1_kernel_both, Reg::l2_kernel_both, Reg::kl,
                        Reg::contractive,    Reg::dropout};

std::string reg_name(Reg r) {
  switch (r) {
    case Reg::none: return "none";
    case Reg::l1_activity: return "l1_activity";
    case Reg::l2_activity: return "l2_activity";
    case Reg::l1_kernel: return "l1_kernel";
    case Reg::l2_kernel: return "l2_kernel";
    case Reg::l1_kernel_both: return "l1_kernel_both";
    case Reg::l2_kernel_both: return "l2_kernel_both";
    case Reg::kl: return "kl";
    case Reg::contractive: return "contractive";
    case Reg::dropout: return "dropout";
  }
  return "?";
}

struct LossDecoder {
  LossKind loss;
  Activation decoder;
};
const LossDecoder kLossDecoders[] = {{LossKind::mse, Activation::sigmoid},
                                     {LossKind::mse, Activation::identity},
                                     {LossKind::sum_squares, Activation::sigmoid},
                                     {LossKind::sum_squares, Activation::identity},
                                     {LossKind::bce, Activation::sigmoid}};
const Activation kEncoders[] = {Activation::relu, Activation::sigmoid, Activation::tanh, Activation::identity,
                                Activation::negative};

RegularizerOptions reg_options(Reg r) {
  // Lambdas chosen so each penalty's gradient is of the same order as the loss gradient: a
  // wrong penalty gradient cannot hide below the tolerance.
  RegularizerOptions reg;
  switch (r) {
    case Reg::none: break;
    case Reg::l1_activity: reg.l1_activity = 0.02; break;
    case Reg::l2_activity: reg.l2_activity = 0.03; break;
    case Reg::l1_kernel: reg.l1_kernel = 2e-3; break;
    case Reg::l2_kernel: reg.l2_kernel = 5e-3; break;
    case Reg::l1_kernel_both:
      reg.l1_kernel = 2e-3;
      reg.kernel_scope = KernelScope::both;
      break;
    case Reg::l2_kernel_both:
      reg.l2_kernel = 5e-3;
      reg.kernel_scope = KernelScope::both;
      break;
    case Reg::kl:
      reg.kl_beta = 0.05;
      reg.kl_rho = 0.1;
      break;
    case Reg::contractive: reg.contractive = 0.05; break;
    case Reg::dropout: reg.dropout = 0.4; break;
  }
  return reg;
}

// ---- Independent reference objective (plain loops, from the definitions) ----

double act(Activation a, double z) {
  switch (a) {
    case Activation::relu: return z > 0 ? z : 0.0;
    case Activation::sigmoid: return 1.0 / (1.0 + std::exp(-z));
    case Activation::tanh: return std::tanh(z);
    case Activation::identity: return z;
    case Activation::negative: return -z;
  }
  return 0;
}

double act_derivative(Activation a, double z) {
  switch (a) {
    case Activation::relu: return z > 0 ? 1.0 : 0.0;
    case Activation::sigmoid: {
      const double s = 1.0 / (1.0 + std::exp(-z));
      return s * (1.0 - s);
    }
    case Activation::tanh: return 1.0 / (std::cosh(z) * std::cosh(z));
    case Activation::identity: return 1.0;
    case Activation::negative: return -1.0;
  }
  return 0;
}

struct Reference {
  double loss = 0;
  double penalty = 0;
};

Reference reference_objective(const ModelOptions& model, const RegularizerOptions& reg, const ParameterSet<double>& p,
                              const Matrix<double>& x, const Matrix<double>* mask) {
  const int n = model.input_size, k = model.hidden;
  const int batch = int(x.cols());
  const auto w1 = p.w1();
  const auto w2 = p.w2();
  Matrix<double> z1(k, batch), h(k, batch), y(n, batch);
  for (int b = 0; b < batch; ++b) {
    for (int j = 0; j < k; ++j) {
      double z = model.use_bias ? p.b1()(j) : 0.0;
      for (int i = 0; i < n; ++i) z += w1(j, i) * x(i, b);
      z1(j, b) = z;
      h(j, b) = act(model.encoder_activation, z);
    }
    for (int i = 0; i < n; ++i) {
      double z = model.use_bias ? p.b2()(i) : 0.0;
      for (int j = 0; j < k; ++j) z += w2(i, j) * h(j, b) * (mask ? (*mask)(j, b) : 1.0);
      y(i, b) = act(model.decoder_activation, z);
    }
  }
  Reference r;
  double sum = 0;
  for (int b = 0; b < batch; ++b)
    for (int i = 0; i < n; ++i) {
      const double t = x(i, b), out = y(i, b);
      sum += model.loss == LossKind::bce ? -(t * std::log(out) + (1 - t) * std::log(1 - out)) : (out - t) * (out - t);
    }
  // mse and bce: mean over pixels and samples (Keras); sum_squares: sum over pixels, mean over samples.
  r.loss = model.loss == LossKind::sum_squares ? sum / batch : sum / (double(n) * batch);

  double abs_h = 0, sq_h = 0;
  for (int j = 0; j < k; ++j)
    for (int b = 0; b < batch; ++b) {
      abs_h += std::abs(h(j, b));
      sq_h += h(j, b) * h(j, b);
    }
  // Activity penalties: Keras's activity_regularizer, divided by the batch size.
  r.penalty += reg.l1_activity * abs_h / batch + reg.l2_activity * sq_h / batch;
  // Kernel penalties: lambda * sum|W| and lambda * sum W^2 (no 1/2), on W1 and with "both" W2.
  double abs_w = 0, sq_w = 0;
  for (int j = 0; j < k; ++j)
    for (int i = 0; i < n; ++i) {
      abs_w += std::abs(w1(j, i));
      sq_w += w1(j, i) * w1(j, i);
      if (reg.kernel_scope == KernelScope::both) {
        abs_w += std::abs(w2(i, j));
        sq_w += w2(i, j) * w2(i, j);
      }
    }
  r.penalty += reg.l1_kernel * abs_w + reg.l2_kernel * sq_w;
  // KL sparsity: beta * sum_j KL(rho || rho_hat_j), rho_hat_j the batch mean of h_j.
  if (reg.kl_beta != 0) {
    double kl = 0;
    const double rho = reg.kl_rho;
    for (int j = 0; j < k; ++j) {
      double rho_hat = 0;
      for (int b = 0; b < batch; ++b) rho_hat += h(j, b) / batch;
      kl += rho * std::log(rho / rho_hat) + (1 - rho) * std::log((1 - rho) / (1 - rho_hat));
    }
    r.penalty += reg.kl_beta * kl;
  }
  // Contractive: lambda * mean over the batch of ||J_b||_F^2, J_b[j][i] = dh_j/dx_i = f'(z_jb) W1[j][i].
  if (reg.contractive != 0) {
    double frob = 0;
    for (int b = 0; b < batch; ++b)
      for (int j = 0; j < k; ++j)
        for (int i = 0; i < n; ++i) {
          const double jac = act_derivative(model.encoder_activation, z1(j, b)) * w1(j, i);
          frob += jac * jac;
        }
    r.penalty += reg.contractive * frob / batch;
  }
  return r;
}

// ---- The parameterized check ----

using Case = std::tuple<Activation, LossDecoder, Reg, bool>;

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const auto& [encoder, ld, reg, bias] = info.param;
  std::ostringstream name;
  name << to_string(encoder) << "_" << to_string(ld.loss) << "_" << to_string(ld.decoder) << "_" << reg_name(reg)
       << (bias ? "_bias" : "_nobias");
  return name.str();
}

class GradientCheck : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const auto& [encoder, ld, reg, bias] = GetParam();
    model_.input_size = kInput;
    model_.hidden = kHidden;
    model_.encoder_activation = encoder;
    model_.decoder_activation = ld.decoder;
    model_.loss = ld.loss;
    model_.use_bias = bias;
    reg_kind_ = reg;
    reg_ = reg_options(reg);

    // Inputs in [0, 1] shaped like MNIST pixels: many exact zeros and ones, some grey values.
    Rng data_rng(20240917);
    x_.resize(kInput, kBatch);
    for (Eigen::Index i = 0; i < x_.size(); ++i) {
      const double u = data_rng.uniform_double();
      x_.data()[i] = u < 0.3 ? 0.0 : (u < 0.45 ? 1.0 : data_rng.uniform_double());
    }
    if (reg == Reg::dropout) {
      // A fixed inverted-dropout mask: 0 or 1/(1 - 0.4), with both kinds present.
      mask_.resize(kHidden, kBatch);
      for (Eigen::Index i = 0; i < mask_.size(); ++i) mask_.data()[i] = (i % 3 == 1) ? 0.0 : 1.0 / (1.0 - 0.4);
    }
    draw_parameters();
  }

  // Weights with |w| in [0.02, 0.35] and random signs, biases in [-0.2, 0.2]; for the KL penalty
  // all encoder weights share the sign that makes every code positive and below 1 (rho_hat in
  // (0, 1) for any activation). Redrawn from the next seed until no z1 lies within 1e-3 of 0.
  void draw_parameters() {
    const bool kl = reg_kind_ == Reg::kl;
    const Activation encoder = model_.encoder_activation;
    for (std::uint64_t seed = 1; seed < 1000; ++seed) {
      Rng rng(seed);
      ParameterSet<double> p(kInput, kHidden);
      auto magnitude = [&] { return 0.02 + 0.33 * rng.uniform_double(); };
      auto signed_magnitude = [&] { return (rng.uniform_double() < 0.5 ? -1.0 : 1.0) * magnitude(); };
      for (Eigen::Index i = 0; i < p.w1().size(); ++i) {
        double w = signed_magnitude();
        if (kl) w = (encoder == Activation::negative ? -1.0 : 1.0) * std::abs(w) * 0.12;
        p.w1().data()[i] = w;
      }
      for (Eigen::Index i = 0; i < p.w2().size(); ++i) p.w2().data()[i] = signed_magnitude();
      for (Eigen::Index i = 0; i < kHidden; ++i) p.b1()(i) = kl ? 0.0 : 0.4 * rng.uniform_double() - 0.2;
      for (Eigen::Index i = 0; i < kInput; ++i) p.b2()(i) = 0.4 * rng.uniform_double() - 0.2;
      Matrix<double> z1 = p.w1() * x_;
      if (model_.use_bias) z1.colwise() += p.b1();
      if (z1.array().abs().minCoeff() > 1e-3) {
        params_ = p;
        return;
      }
    }
    FAIL() << "no parameter draw keeps z1 away from 0";
  }

  BatchObjective evaluate(Autoencoder<double>& ae, ParameterSet<double>& gradient) {
    return ae.forward_backward(x_, x_, mask_.size() ? &mask_ : nullptr, gradient);
  }

  ModelOptions model_;
  RegularizerOptions reg_;
  Reg reg_kind_ = Reg::none;
  Matrix<double> x_, mask_;
  ParameterSet<double> params_;
};

// One ctest entry per combination: first the reported loss and penalty values against the
// independent computation, then the gradient against central differences.
TEST_P(GradientCheck, ValuesAndGradientMatchReference) {
  Autoencoder<double> ae(model_, reg_);
  ae.params() = params_;
  ParameterSet<double> gradient(kInput, kHidden), scratch(kInput, kHidden);
  const BatchObjective objective = evaluate(ae, gradient);
  const Reference expected = reference_objective(model_, reg_, params_, x_, mask_.size() ? &mask_ : nullptr);
  EXPECT_NEAR(objective.loss, expected.loss, 1e-12 * std::max(1.0, std::abs(expected.loss)));
  EXPECT_NEAR(objective.penalty, expected.penalty, 1e-12 * std::max(1.0, std::abs(expected.penalty)));
  if (reg_kind_ == Reg::none || reg_kind_ == Reg::dropout) {
    EXPECT_EQ(objective.penalty, 0.0);
  } else {
    // The penalty is large enough that a wrong one is visible.
    EXPECT_GT(expected.penalty, 1e-3);
  }
  EXPECT_DOUBLE_EQ(objective.total(), objective.loss + objective.penalty);

  const Vector<double> analytic = gradient.flat();
  ASSERT_EQ(analytic.size(), params_.flat().size());
  ASSERT_TRUE(analytic.allFinite());

  constexpr double step = 1e-6;
  int checked = 0, nonzero = 0;
  const Eigen::Index w1_end = Eigen::Index(kInput) * kHidden, b1_end = w1_end + kHidden,
                     w2_end = b1_end + Eigen::Index(kInput) * kHidden;
  for (Eigen::Index i = 0; i < analytic.size(); ++i) {
    const bool is_bias = (i >= w1_end && i < b1_end) || i >= w2_end;
    ae.params().flat() = params_.flat();
    ae.params().flat()(i) = params_.flat()(i) + step;
    const double plus = evaluate(ae, scratch).total();
    ae.params().flat()(i) = params_.flat()(i) - step;
    const double minus = evaluate(ae, scratch).total();
    const double numeric = (plus - minus) / (2 * step);
    if (is_bias && !model_.use_bias) {
      // Unused biases: no effect on the objective and a zero gradient.
      EXPECT_EQ(numeric, 0.0) << "parameter " << i;
      EXPECT_EQ(analytic(i), 0.0) << "parameter " << i;
      continue;
    }
    // Relative tolerance 1e-6 plus the central difference's rounding error: each objective is
    // a sum with a few ulps of error in |f|, divided by 2 * step (16 ulps of |f| / step bounds it;
    // with sum_squares losses |f| is large enough that a fixed 1e-9 floor was too tight once the
    // compiler reordered the sums, as the sanitizer build does).
    const double rounding = 16 * std::numeric_limits<double>::epsilon() * std::abs(objective.total()) / step;
    const double tolerance = 1e-6 * std::max(std::abs(numeric), std::abs(analytic(i))) + 1e-9 + rounding;
    EXPECT_NEAR(analytic(i), numeric, tolerance) << "parameter " << i << " (w1 [0, " << w1_end << "), b1 up to "
                                                 << b1_end << ", w2 up to " << w2_end << ", then b2)";
    ++checked;
    if (std::abs(numeric) > 1e-7) ++nonzero;
  }
  // The check is not vacuous: most parameters have a clearly nonzero gradient.
  EXPECT_GT(nonzero, checked / 2);
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, GradientCheck,
                         ::testing::Combine(::testing::ValuesIn(kEncoders), ::testing::ValuesIn(kLossDecoders),
                                            ::testing::ValuesIn(kAllRegs), ::testing::Bool()),
                         case_name);

// ---- Direct penalty values on hand-sized examples ----

// A 2-input, 2-hidden identity model where every penalty can be computed on paper.
class PenaltyValue : public ::testing::Test {
 protected:
  void SetUp() override {
    model_.input_size = 2;
    model_.hidden = 2;
    model_.encoder_activation = Activation::identity;
    model_.decoder_activation = Activation::identity;
    model_.use_bias = false;
    // W1 = [[1, -2], [0.5, 3]], W2 = [[2, 0], [-1, 1]] (column-major storage).
    params_.resize(2, 2);
    params_.w1() << 1, -2, 0.5, 3;
    params_.w2() << 2, 0, -1, 1;
    // x = [[1, 0], [0, 1]] (two samples): h_0 = W1 x_0 = (1, 0.5), h_1 = W1 x_1 = (-2, 3).
    x_ = Matrix<double>::Identity(2, 2);
  }
  double penalty(const RegularizerOptions& reg) {
    Autoencoder<double> ae(model_, reg);
    ae.params() = params_;
    ParameterSet<double> g(2, 2);
    return ae.forward_backward(x_, x_, nullptr, g).penalty;
  }
  ModelOptions model_;
  ParameterSet<double> params_;
  Matrix<double> x_;
};

TEST_F(PenaltyValue, ActivityPenaltiesAreAveragedOverTheBatch) {
  RegularizerOptions l1;
  l1.l1_activity = 0.1;
  // sum|h| = 1 + 0.5 + 2 + 3 = 6.5; 0.1 * 6.5 / 2 = 0.325
  EXPECT_NEAR(penalty(l1), 0.325, 1e-15);
  RegularizerOptions l2;
  l2.l2_activity = 0.1;
  // sum h^2 = 1 + 0.25 + 4 + 9 = 14.25; 0.1 * 14.25 / 2 = 0.7125
  EXPECT_NEAR(penalty(l2), 0.7125, 1e-15);
}

TEST_F(PenaltyValue, KernelPenaltiesAreNotAveragedAndScopeBothAddsW2) {
  RegularizerOptions reg;
  reg.l1_kernel = 0.1;
  // sum|W1| = 1 + 2 + 0.5 + 3 = 6.5 -> 0.65
  EXPECT_NEAR(penalty(reg), 0.65, 1e-15);
  reg.kernel_scope = KernelScope::both;
  // + sum|W2| = 2 + 0 + 1 + 1 = 4 -> 0.1 * 10.5 = 1.05
  EXPECT_NEAR(penalty(reg), 1.05, 1e-15);
  RegularizerOptions l2;
  l2.l2_kernel = 0.1;
  // sum W1^2 = 1 + 4 + 0.25 + 9 = 14.25 -> 1.425 (no factor 1/2)
  EXPECT_NEAR(penalty(l2), 1.425, 1e-14);
  l2.kernel_scope = KernelScope::both;
  // + sum W2^2 = 4 + 0 + 1 + 1 = 6 -> 0.1 * 20.25 = 2.025
  EXPECT_NEAR(penalty(l2), 2.025, 1e-14);
}

TEST_F(PenaltyValue, ContractiveIsTheMeanSquaredFrobeniusNormOfTheJacobian) {
  RegularizerOptions reg;
  reg.contractive = 0.1;
  // identity encoder: J = W1 for every sample, ||W1||_F^2 = 14.25 -> 0.1 * 14.25 = 1.425
  EXPECT_NEAR(penalty(reg), 1.425, 1e-14);
}

TEST_F(PenaltyValue, KlSparsityOfTheBatchMeanCode) {
  // Codes in (0, 1): W1 = [[0.2, 0.4], [0.1, 0.3]] gives h_0 = (0.2, 0.1), h_1 = (0.4, 0.3);
  // rho_hat = (0.3, 0.2).
  params_.w1() << 0.2, 0.4, 0.1, 0.3;  // row-major reading of the comma initializer
  RegularizerOptions reg;
  reg.kl_beta = 2.0;
  reg.kl_rho = 0.1;
  const auto kl = [](double rho, double q) { return rho * std::log(rho / q) + (1 - rho) * std::log((1 - rho) / (1 - q)); };
  // KL(0.1||0.3) = 0.1 ln(1/3) + 0.9 ln(0.9/0.7) = -0.109861 + 0.226183 = 0.116322
  // KL(0.1||0.2) = 0.1 ln(0.5) + 0.9 ln(0.9/0.8) = -0.069315 + 0.106006 = 0.036691
  EXPECT_NEAR(kl(0.1, 0.3), 0.116322, 1e-6);
  EXPECT_NEAR(kl(0.1, 0.2), 0.036691, 1e-6);
  EXPECT_NEAR(penalty(reg), 2.0 * (0.116322 + 0.036691), 1e-5);
  // With rho = rho_hat the divergence vanishes.
  reg.kl_rho = 0.3;
  params_.w1() << 0.3, 0.3, 0.3, 0.3;  // rho_hat = (0.3, 0.3)
  EXPECT_NEAR(penalty(reg), 0.0, 1e-14);
}

TEST_F(PenaltyValue, DropoutHasNoPenaltyButScalesTheCode) {
  RegularizerOptions reg;
  reg.dropout = 0.5;
  Autoencoder<double> ae(model_, reg);
  ae.params() = params_;
  ParameterSet<double> g(2, 2);
  Matrix<double> all_dropped = Matrix<double>::Zero(2, 2);
  const auto dropped = ae.forward_backward(x_, x_, &all_dropped, g);
  // Every code dropped: x' = 0, mse = mean of x^2 = 2 / 4 = 0.5, and no gradient reaches W1.
  EXPECT_EQ(dropped.penalty, 0.0);
  EXPECT_NEAR(dropped.loss, 0.5, 1e-15);
  EXPECT_EQ(g.w1().cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(g.w2().cwiseAbs().maxCoeff(), 0.0);
}

// The float model follows the double one (the trainer runs in float).
TEST(AutoencoderFloat, MatchesDoubleWithinFloatPrecision) {
  ModelOptions model;
  model.input_size = 20;
  model.hidden = 7;
  RegularizerOptions reg;
  reg.l1_activity = 0.01;
  reg.contractive = 0.02;
  reg.l2_kernel = 1e-3;
  Autoencoder<double> ad(model, reg);
  Autoencoder<float> af(model, reg);
  ad.initialize(5);
  af.initialize(5);
  EXPECT_TRUE(ad.params().flat().cast<float>().isApprox(af.params().flat(), 1e-6f));
  Rng rng(3);
  Matrix<double> x(20, 6);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform_double();
  const Matrix<float> xf = x.cast<float>();
  ParameterSet<double> gd(20, 7);
  ParameterSet<float> gf(20, 7);
  const auto od = ad.forward_backward(x, x, nullptr, gd);
  const auto of = af.forward_backward(xf, xf, nullptr, gf);
  EXPECT_NEAR(of.loss, od.loss, 1e-5 * od.loss);
  EXPECT_NEAR(of.penalty, od.penalty, 1e-5 * od.penalty);
  EXPECT_LT((gf.flat().cast<double>() - gd.flat()).norm(), 1e-4 * gd.flat().norm());
}

TEST(AutoencoderInit, GlorotUniformWeightsAndZeroBiases) {
  ModelOptions model;
  model.input_size = 784;
  model.hidden = 196;
  Autoencoder<double> ae(model, {});
  ae.initialize(11);
  const double limit = std::sqrt(6.0 / (784 + 196));
  EXPECT_LE(ae.params().w1().cwiseAbs().maxCoeff(), limit);
  EXPECT_LE(ae.params().w2().cwiseAbs().maxCoeff(), limit);
  // U(-l, l) has variance l^2 / 3.
  const double variance = ae.params().w1().array().square().mean();
  EXPECT_NEAR(variance, limit * limit / 3, 0.02 * limit * limit / 3);
  EXPECT_NEAR(ae.params().w1().mean(), 0.0, 0.01 * limit);
  EXPECT_EQ(ae.params().b1().cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(ae.params().b2().cwiseAbs().maxCoeff(), 0.0);
  Autoencoder<double> same(model, {}), other(model, {});
  same.initialize(11);
  other.initialize(12);
  EXPECT_EQ(same.params().flat(), ae.params().flat());
  EXPECT_NE(other.params().flat(), ae.params().flat());
}

// Evaluation mode reproduces the training forward pass when there is no dropout.
TEST(AutoencoderEvaluate, MatchesForwardBackwardLoss) {
  ModelOptions model;
  model.input_size = 16;
  model.hidden = 5;
  model.loss = LossKind::bce;
  Autoencoder<double> ae(model, {});
  ae.initialize(2);
  Rng rng(9);
  Matrix<double> x(16, 4);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform_double();
  ParameterSet<double> g(16, 5);
  const double batch_loss = ae.forward_backward(x, x, nullptr, g).loss;
  Matrix<double> latent(5, 4), out(16, 4), pre(16, 4);
  const auto sums = ae.evaluate(x, latent, out, pre);
  // evaluate: per-sample loss summed over the batch (bce: mean over pixels per sample).
  EXPECT_NEAR(sums.loss / 4, batch_loss, 1e-12);
  Matrix<double> expected_latent = (ae.params().w1() * x).array().max(0.0).matrix();
  EXPECT_TRUE(latent.isApprox(expected_latent, 1e-12));
  EXPECT_NEAR(sums.squared_error, (out - x).squaredNorm(), 1e-12);
}

}  // namespace
}  // namespace aesweep
