// train_together on real MNIST digits: a group of runs of one shape trained with fused encoder
// products gives each run what it gets alone (to float rounding), is deterministic, and lets a
// diverging or early-stopping run leave without disturbing the others.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "aesweep/core/trainer.hpp"
#include "support/test_support.hpp"

namespace aesweep {
namespace {

const Dataset& small_data() { return test::small_mnist(); }
TrainOptions base_options() { return test::quick_options(16, 11); }

// Runs that share shape, seed and batches but differ in everything the group lets differ.
std::vector<TrainOptions> varied_group() {
  std::vector<TrainOptions> group(6, base_options());
  group[1].reg.l1_activity = 1e-3;
  group[2].reg.dropout = 0.3;
  group[2].optimizer.learning_rate = 3e-3;
  group[3].model.encoder_activation = Activation::tanh;
  group[3].model.use_bias = false;
  group[3].reg.contractive = 0.1;
  group[4].reg.l2_kernel = 1e-3;
  group[4].reg.kernel_scope = KernelScope::both;
  group[4].reg.kl_beta = 0.5;
  group[4].model.encoder_activation = Activation::sigmoid;
  group[5].optimizer.kind = OptimizerKind::rmsprop;
  group[5].model.loss = LossKind::bce;
  return group;
}

float max_abs_difference(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b) {
  EXPECT_EQ(a.rows(), b.rows());
  EXPECT_EQ(a.cols(), b.cols());
  return (a - b).cwiseAbs().maxCoeff();
}

using test::bit_identical;

void expect_like_alone(const RunResult& together, const RunResult& alone, const std::string& what) {
  ASSERT_EQ(together.status, alone.status) << what << ": " << together.error << " / " << alone.error;
  ASSERT_EQ(together.epochs.size(), alone.epochs.size()) << what;
  // Float rounding in the wide products differs from the narrow ones and grows over the steps
  // (measured: 1e-7 after 3 epochs, 2e-5 after 20), but stays far below any effect of the
  // settings the group varies.
  EXPECT_LT(max_abs_difference(together.w1, alone.w1), 1e-4f) << what;
  EXPECT_LT(max_abs_difference(together.w2, alone.w2), 1e-4f) << what;
  EXPECT_NEAR(together.metrics.test_mse, alone.metrics.test_mse, 1e-5 * alone.metrics.test_mse) << what;
  for (std::size_t e = 0; e < alone.epochs.size(); ++e)
    EXPECT_NEAR(together.epochs[e].train_loss, alone.epochs[e].train_loss, 1e-5 * alone.epochs[e].train_loss)
        << what << " epoch " << e + 1;
}

TEST(TrainTogether, EachRunOfAVariedGroupMatchesItsRunAlone) {
  const auto group = varied_group();
  const auto together = train_together(group, small_data());
  ASSERT_EQ(together.size(), group.size());
  for (std::size_t k = 0; k < group.size(); ++k) {
    const RunResult alone = train_autoencoder(group[k], small_data());
    ASSERT_EQ(alone.status, RunStatus::complete) << alone.error;
    expect_like_alone(together[k], alone, "run " + std::to_string(k));
  }
  // The settings do matter: the runs differ from each other far more than from their solo runs.
  EXPECT_GT(max_abs_difference(together[0].w1, together[1].w1), 1e-2f);
}

TEST(TrainTogether, TheSameGroupGivesBitIdenticalResults) {
  auto group = varied_group();
  for (auto& o : group) {
    o.noise.kind = NoiseKind::masking;
    o.noise.level = 0.2;
    o.training.validation_split = 0.1;
  }
  const auto a = train_together(group, small_data());
  const auto b = train_together(group, small_data());
  for (std::size_t k = 0; k < group.size(); ++k) {
    EXPECT_TRUE(bit_identical(a[k].w1, b[k].w1)) << k;
    EXPECT_TRUE(bit_identical(a[k].w2, b[k].w2)) << k;
    EXPECT_TRUE(bit_identical(a[k].test_latent, b[k].test_latent)) << k;
    EXPECT_EQ(a[k].metrics.test_mse, b[k].metrics.test_mse) << k;
  }
}

TEST(TrainTogether, AGroupOfOneIsExactlyTrainAutoencoder) {
  TrainOptions o = base_options();
  o.reg.dropout = 0.2;
  const auto together = train_together({o}, small_data());
  const RunResult alone = train_autoencoder(o, small_data());
  ASSERT_EQ(together.size(), 1u);
  EXPECT_TRUE(bit_identical(together[0].w1, alone.w1));
  EXPECT_TRUE(bit_identical(together[0].test_latent, alone.test_latent));
}

TEST(TrainTogether, ADivergingRunLeavesTheGroupAndTheOthersGoOn) {
  std::vector<TrainOptions> group(3, base_options());
  group[1].model.decoder_activation = Activation::identity;
  group[1].optimizer.kind = OptimizerKind::sgd;
  group[1].optimizer.learning_rate = 1e6;  // blows up within the first batches
  group[2].reg.l1_activity = 1e-3;
  const auto together = train_together(group, small_data());
  EXPECT_EQ(together[1].status, RunStatus::diverged);
  EXPECT_FALSE(together[1].error.empty());
  EXPECT_LT(together[1].epochs_run, 3);
  for (std::size_t k : {std::size_t(0), std::size_t(2)}) {
    const RunResult alone = train_autoencoder(group[k], small_data());
    expect_like_alone(together[k], alone, "run " + std::to_string(k));
  }
}

TEST(TrainTogether, AnEarlyStoppedRunLeavesTheGroupAtItsOwnEpoch) {
  std::vector<TrainOptions> group(2, base_options());
  for (auto& o : group) {
    o.training.epochs = 30;
    o.training.validation_split = 0.2;
  }
  group[0].optimizer.learning_rate = 0.03;  // overshoots, so the validation loss soon stops falling
  group[0].training.patience = 1;
  const auto together = train_together(group, small_data());
  const RunResult alone = train_autoencoder(group[0], small_data());
  ASSERT_LT(alone.epochs_run, 30) << "the test needs a run that stops early";
  EXPECT_EQ(together[0].epochs_run, alone.epochs_run);
  EXPECT_EQ(together[1].epochs_run, 30);
  expect_like_alone(together[0], alone, "early-stopped run");
}

TEST(TrainTogether, OnlyRunsOfOneShapeSeedAndBatchesGoTogether) {
  const TrainOptions a = base_options();
  for (auto change : std::vector<void (*)(TrainOptions&)>{
           [](TrainOptions& o) { o.model.hidden = 32; },
           [](TrainOptions& o) { o.training.seed = 12; },
           [](TrainOptions& o) { o.training.batch_size = 64; },
           [](TrainOptions& o) { o.training.epochs = 4; },
           [](TrainOptions& o) { o.training.validation_split = 0.1; },
           [](TrainOptions& o) { o.noise.kind = NoiseKind::gaussian; o.noise.level = 0.1; }}) {
    TrainOptions b = a;
    change(b);
    EXPECT_FALSE(can_train_together(a, b));
    EXPECT_THROW(train_together({a, b}, small_data()), std::invalid_argument);
  }
  for (auto change : std::vector<void (*)(TrainOptions&)>{
           [](TrainOptions& o) { o.reg.l1_activity = 0.1; },
           [](TrainOptions& o) { o.optimizer.kind = OptimizerKind::sgd; },
           [](TrainOptions& o) { o.model.encoder_activation = Activation::sigmoid; },
           [](TrainOptions& o) { o.training.patience = 2; }}) {
    TrainOptions b = a;
    change(b);
    EXPECT_TRUE(can_train_together(a, b));
  }
}

TEST(TrainTogether, GroupRunsFormsDeterministicGroupsOfCompatibleRuns) {
  std::vector<TrainOptions> runs(7, base_options());
  runs[2].training.seed = 99;    // fits with nobody
  runs[4].model.hidden = 64;     // above max_hidden: alone
  runs[5].model.hidden = 64;
  runs[6].reg.l1_activity = 0.1;  // fits with 0, 1 and 3
  using Groups = std::vector<std::vector<std::size_t>>;
  EXPECT_EQ(group_runs(runs, 8, 32), (Groups{{0, 1, 3, 6}, {2}, {4}, {5}}));
  EXPECT_EQ(group_runs(runs, 3, 32), (Groups{{0, 1, 3}, {2}, {4}, {5}, {6}}));
  EXPECT_EQ(group_runs(runs, 8, 64), (Groups{{0, 1, 3, 6}, {2}, {4, 5}}));
  EXPECT_EQ(group_runs(runs, 1, 64), (Groups{{0}, {1}, {2}, {3}, {4}, {5}, {6}}));
  EXPECT_TRUE(group_runs({}, 8, 32).empty());
}

}  // namespace
}  // namespace aesweep
