// The first steps of every optimizer against values worked out by hand from the Keras update
// rules. Parameters start at p0 = (1, -2, 0.5); the gradients are
//   g1 = (0.5, -1, 2),  g2 = (1, 1, -1),  g3 = (0.25, -0.5, 0).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "aesweep/core/optimizer.hpp"

namespace aesweep {
namespace {

using Vec = Eigen::VectorXd;

Vec vec(double a, double b, double c) { return (Vec(3) << a, b, c).finished(); }

const Vec kP0 = vec(1, -2, 0.5);
const Vec kG1 = vec(0.5, -1, 2);
const Vec kG2 = vec(1, 1, -1);
const Vec kG3 = vec(0.25, -0.5, 0);

// Runs the optimizer over `gradients` and returns the parameters after each step.
std::vector<Vec> run_steps(const OptimizerOptions& options, const std::vector<Vec>& gradients) {
  Optimizer<double> optimizer(options, 3);
  Vec p = kP0;
  std::vector<Vec> trajectory;
  for (const Vec& g : gradients) {
    optimizer.step(p, g);
    trajectory.push_back(p);
  }
  EXPECT_EQ(optimizer.steps_taken(), long(gradients.size()));
  return trajectory;
}

void expect_vec_near(const Vec& got, const Vec& expected, double tolerance, const char* what) {
  for (Eigen::Index i = 0; i < 3; ++i) EXPECT_NEAR(got(i), expected(i), tolerance) << what << " element " << i;
}

TEST(Optimizer, Sgd) {
  OptimizerOptions o;
  o.kind = OptimizerKind::sgd;
  o.learning_rate = 0.1;
  const auto p = run_steps(o, {kG1, kG2});
  // p1 = p0 - 0.1 g1 = (1 - 0.05, -2 + 0.1, 0.5 - 0.2) = (0.95, -1.9, 0.3)
  expect_vec_near(p[0], vec(0.95, -1.9, 0.3), 1e-14, "step 1");
  // p2 = p1 - 0.1 g2 = (0.95 - 0.1, -1.9 - 0.1, 0.3 + 0.1) = (0.85, -2.0, 0.4)
  expect_vec_near(p[1], vec(0.85, -2.0, 0.4), 1e-14, "step 2");
}

TEST(Optimizer, Momentum) {
  OptimizerOptions o;
  o.kind = OptimizerKind::momentum;
  o.learning_rate = 0.1;
  o.momentum = 0.9;
  const auto p = run_steps(o, {kG1, kG2, kG3});
  // v1 = 0.9 * 0 - 0.1 g1 = (-0.05, 0.1, -0.2);  p1 = p0 + v1 = (0.95, -1.9, 0.3)
  expect_vec_near(p[0], vec(0.95, -1.9, 0.3), 1e-14, "step 1");
  // v2 = 0.9 v1 - 0.1 g2 = (-0.045 - 0.1, 0.09 - 0.1, -0.18 + 0.1) = (-0.145, -0.01, -0.08)
  // p2 = p1 + v2 = (0.805, -1.91, 0.22)
  expect_vec_near(p[1], vec(0.805, -1.91, 0.22), 1e-14, "step 2");
  // v3 = 0.9 v2 - 0.1 g3 = (-0.1305 - 0.025, -0.009 + 0.05, -0.072) = (-0.1555, 0.041, -0.072)
  // p3 = p2 + v3 = (0.6495, -1.869, 0.148)
  expect_vec_near(p[2], vec(0.6495, -1.869, 0.148), 1e-14, "step 3");
}

TEST(Optimizer, Nesterov) {
  OptimizerOptions o;
  o.kind = OptimizerKind::nesterov;
  o.learning_rate = 0.1;
  o.momentum = 0.9;
  const auto p = run_steps(o, {kG1, kG2, kG3});
  // Keras: v = mu v - lr g;  p += mu v - lr g.
  // v1 = (-0.05, 0.1, -0.2); p1 = p0 + 0.9 v1 - 0.1 g1 = (1 - 0.045 - 0.05, -2 + 0.09 + 0.1, 0.5 - 0.18 - 0.2)
  //    = (0.905, -1.81, 0.12)
  expect_vec_near(p[0], vec(0.905, -1.81, 0.12), 1e-14, "step 1");
  // v2 = (-0.145, -0.01, -0.08); p2 = p1 + 0.9 v2 - 0.1 g2
  //    = (0.905 - 0.1305 - 0.1, -1.81 - 0.009 - 0.1, 0.12 - 0.072 + 0.1) = (0.6745, -1.919, 0.148)
  expect_vec_near(p[1], vec(0.6745, -1.919, 0.148), 1e-14, "step 2");
  // v3 = (-0.1555, 0.041, -0.072); p3 = p2 + 0.9 v3 - 0.1 g3
  //    = (0.6745 - 0.13995 - 0.025, -1.919 + 0.0369 + 0.05, 0.148 - 0.0648 - 0) = (0.50955, -1.8321, 0.0832)
  expect_vec_near(p[2], vec(0.50955, -1.8321, 0.0832), 1e-14, "step 3");
}

TEST(Optimizer, RmsProp) {
  OptimizerOptions o;
  o.kind = OptimizerKind::rmsprop;
  o.learning_rate = 0.01;
  o.rho = 0.9;
  o.epsilon = 1e-7;
  const auto p = run_steps(o, {kG1, kG2});
  // a1 = 0.9 * 0 + 0.1 g1^2 = (0.025, 0.1, 0.4); sqrt(a1) = (0.158113883, 0.316227766, 0.632455532)
  // update = 0.01 g1 / (sqrt(a1) + 1e-7): each |g|/sqrt(0.1 g^2) = sqrt(10) = 3.16227766, less the eps:
  //   0.01 * 0.5 / 0.158113983 = 0.0316227566;  0.01 * 1 / 0.316227866 = 0.0316227666;
  //   0.01 * 2 / 0.632455632 = 0.0316227716
  // p1 = (1 - 0.0316227566, -2 + 0.0316227666, 0.5 - 0.0316227716)
  expect_vec_near(p[0], vec(0.9683772433983036, -1.968377233398313, 0.4683772283983154), 1e-12, "step 1");
  // a2 = 0.9 a1 + 0.1 g2^2 = (0.0225 + 0.1, 0.09 + 0.1, 0.36 + 0.1) = (0.1225, 0.19, 0.46)
  // p2 = p1 - 0.01 g2 / (sqrt(a2) + 1e-7): sqrt = (0.35, 0.435889894, 0.678232998)
  //    = (0.96837724 - 0.0285713469, -1.96837723 - 0.0229415785, 0.46837723 + 0.0147441935)
  expect_vec_near(p[1], vec(0.9398058229901379, -1.9913188015222125, 0.48312142183989243), 1e-12, "step 2");
}

TEST(Optimizer, AdamTensorFlowForm) {
  OptimizerOptions o;
  o.kind = OptimizerKind::adam;
  o.learning_rate = 0.001;
  o.beta1 = 0.9;
  o.beta2 = 0.999;
  o.epsilon = 1e-7;
  const auto p = run_steps(o, {kG1, kG2, kG3});
  // t = 1: m1 = 0.1 g1 = (0.05, -0.1, 0.2); v1 = 0.001 g1^2 = (0.00025, 0.001, 0.004)
  //   lr_1 = 0.001 sqrt(1 - 0.999) / (1 - 0.9) = 0.001 * 0.0316227766 / 0.1 = 3.16227766e-4
  //   step = lr_1 m1 / (sqrt(v1) + 1e-7) ~= 0.001 sign(g1) (the classic first Adam step), exactly
  //   3.16227766e-4 * 0.05 / (0.0158113883 + 1e-7) = 0.000999993675 for the first element.
  expect_vec_near(p[0], vec(0.9990000063245154, -1.9990000031622677, 0.49900000158113633), 1e-13, "step 1");
  // t = 2: m2 = 0.9 m1 + 0.1 g2 = (0.145, 0.01, 0.08); v2 = 0.999 v1 + 0.001 g2^2 = (0.00124975, 0.001999, 0.004996)
  //   lr_2 = 0.001 sqrt(1 - 0.998001) / (1 - 0.81) = 0.001 * 0.0447101778 / 0.19 = 2.35316725e-4
  //   p2 = p1 - lr_2 m2 / (sqrt(v2) + 1e-7) = p1 - (9.6518e-4, 5.2630e-5, 2.6634e-4) (signs of m2)
  expect_vec_near(p[1], vec(0.9980348270289059, -1.999052634623498, 0.4987336649182836), 1e-13, "step 2");
  // t = 3: m3 = 0.9 m2 + 0.1 g3 = (0.1555, -0.041, 0.072); v3 = 0.999 v2 + 0.001 g3^2
  //      = (0.00131100025, 0.002247001, 0.004991004); lr_3 = 0.001 sqrt(1 - 0.997002999) / 0.271 = 2.02010597e-4
  expect_vec_near(p[2], vec(0.9971672621554143, -1.998877909457905, 0.49852778590611746), 1e-13, "step 3");
}

TEST(Optimizer, AdaGrad) {
  OptimizerOptions o;
  o.kind = OptimizerKind::adagrad;
  o.learning_rate = 0.1;
  o.adagrad_initial = 0.1;
  o.epsilon = 1e-7;
  const auto p = run_steps(o, {kG1, kG2});
  // a1 = 0.1 + g1^2 = (0.35, 1.1, 4.1); sqrt = (0.591607978, 1.048808848, 2.024845673)
  // p1 = p0 - 0.1 g1 / (sqrt(a1) + 1e-7) = (1 - 0.0845154, -2 + 0.0953462, 0.5 - 0.0987730)
  expect_vec_near(p[0], vec(0.9154845888128602, -1.904653750166349, 0.40122704521308955), 1e-12, "step 1");
  // a2 = a1 + g2^2 = (1.35, 2.1, 5.1); sqrt = (1.161895004, 1.449137675, 2.258317958)
  // p2 = p1 - 0.1 g2 / (sqrt(a2) + 1e-7) = (0.9154846 - 0.0860663, -1.9046538 - 0.0690066, 0.4012270 + 0.0442807)
  expect_vec_near(p[1], vec(0.8294182996378799, -1.97366030133868, 0.4455077875293101), 1e-12, "step 2");
}

// Keras's defaults, which the paper-000 comparison depends on.
TEST(Optimizer, KerasDefaults) {
  const OptimizerOptions o;
  EXPECT_EQ(o.kind, OptimizerKind::adam);
  EXPECT_EQ(o.learning_rate, 1e-3);
  EXPECT_EQ(o.beta1, 0.9);
  EXPECT_EQ(o.beta2, 0.999);
  EXPECT_EQ(o.epsilon, 1e-7);
  EXPECT_EQ(o.rho, 0.9);
  EXPECT_EQ(o.adagrad_initial, 0.1);
}

// The float instantiation (used by the trainer) takes the same steps.
TEST(Optimizer, FloatFollowsDouble) {
  for (auto kind : {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::nesterov, OptimizerKind::rmsprop,
                    OptimizerKind::adam, OptimizerKind::adagrad}) {
    OptimizerOptions o;
    o.kind = kind;
    o.learning_rate = 0.01;
    Optimizer<double> od(o, 3);
    Optimizer<float> of(o, 3);
    Vec pd = kP0;
    Eigen::VectorXf pf = kP0.cast<float>();
    for (const Vec& g : {kG1, kG2, kG3}) {
      od.step(pd, g);
      const Eigen::VectorXf gf = g.cast<float>();
      of.step(pf, gf);
    }
    EXPECT_LT((pf.cast<double>() - pd).cwiseAbs().maxCoeff(), 1e-6) << to_string(kind);
    EXPECT_GT((pd - kP0).cwiseAbs().maxCoeff(), 1e-3) << to_string(kind) << " did not move";
  }
}

// The update runs over the parameter vector in chunks: a vector of several chunks and a
// remainder must take, element by element, the steps of the 3-element hand-checked case.
TEST(Optimizer, LongVectorStepsLikeShortOnes) {
  constexpr Eigen::Index repeats = 2500;  // 7,500 parameters
  for (auto kind : {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::nesterov, OptimizerKind::rmsprop,
                    OptimizerKind::adam, OptimizerKind::adagrad}) {
    OptimizerOptions o;
    o.kind = kind;
    o.learning_rate = 0.01;
    const auto trajectory = run_steps(o, {kG1, kG2, kG3});
    Optimizer<double> long_optimizer(o, 3 * repeats);
    Vec p = kP0.replicate(repeats, 1);
    for (const Vec& g : {kG1, kG2, kG3}) long_optimizer.step(p, g.replicate(repeats, 1));
    for (Eigen::Index i = 0; i < p.size(); ++i)
      ASSERT_EQ(p(i), trajectory.back()(i % 3)) << to_string(kind) << " element " << i;
  }
}

// A gradient whose square overflows Adam's second moment to inf makes the weight NaN (so the
// trainer stops the run as diverged), not a weight that silently stops moving; the others move.
TEST(Optimizer, AdamSecondMomentOverflowMakesTheWeightNaN) {
  OptimizerOptions options;
  options.kind = OptimizerKind::adam;
  options.learning_rate = 0.001;
  Optimizer<float> optimizer(options, 40);  // past one vector register, so the vector loop runs
  Eigen::VectorXf p = Eigen::VectorXf::Ones(40);
  Eigen::VectorXf g = Eigen::VectorXf::Constant(40, 0.5f);
  g(3) = 2e19f;
  g(37) = -2e19f;
  optimizer.step(p, g);
  for (Eigen::Index i = 0; i < 40; ++i) {
    if (i == 3 || i == 37) EXPECT_TRUE(std::isnan(p(i))) << i << ": " << p(i);
    else EXPECT_NEAR(p(i), 1.0f - 0.001f, 1e-6f) << i;
  }
}

}  // namespace
}  // namespace aesweep
