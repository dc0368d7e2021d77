// Stopping a run at an epoch and continuing it from its checkpoint (what successive halving does
// at a rung) equals training it straight through, bit for bit: every weight, every curve value,
// every final metric; also through the checkpoint's bytes, with every optimizer and every source
// of randomness. Bad checkpoints are refused.
#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "aesweep/core/trainer.hpp"
#include "support/test_support.hpp"

namespace aesweep {
namespace {

using test::bit_identical;

// Everything but the timings.
void expect_same_run(const RunResult& a, const RunResult& b) {
  ASSERT_EQ(a.status, b.status) << a.error << " / " << b.error;
  EXPECT_TRUE(bit_identical(a.w1, b.w1));
  EXPECT_TRUE(bit_identical(a.b1, b.b1));
  EXPECT_TRUE(bit_identical(a.w2, b.w2));
  EXPECT_TRUE(bit_identical(a.b2, b.b2));
  EXPECT_TRUE(bit_identical(a.test_latent, b.test_latent));
  EXPECT_EQ(a.epochs_run, b.epochs_run);
  ASSERT_EQ(a.epochs.size(), b.epochs.size());
  for (std::size_t e = 0; e < a.epochs.size(); ++e) {
    // memcmp: NaN validation losses compare equal as bits.
    EXPECT_EQ(0, std::memcmp(&a.epochs[e].train_loss, &b.epochs[e].train_loss, sizeof(double))) << "epoch " << e;
    EXPECT_EQ(0, std::memcmp(&a.epochs[e].train_objective, &b.epochs[e].train_objective, sizeof(double)));
    EXPECT_EQ(0, std::memcmp(&a.epochs[e].test_loss, &b.epochs[e].test_loss, sizeof(double)));
    EXPECT_EQ(0, std::memcmp(&a.epochs[e].validation_loss, &b.epochs[e].validation_loss, sizeof(double)));
  }
  for (const auto& field : scalar_fields()) {
    if (field.name == "wall_seconds" || field.name == "samples_per_second") continue;
    const double x = field.get(a), y = field.get(b);
    EXPECT_EQ(0, std::memcmp(&x, &y, sizeof x)) << field.name;
  }
}

// Every source of randomness on: dropout, input noise, the validation split, the data order.
TrainOptions noisy_options(OptimizerKind kind) {
  TrainOptions o = test::quick_options(24, 11);
  o.training.epochs = 5;
  o.training.validation_split = 0.1;
  o.reg.dropout = 0.25;
  o.noise.kind = NoiseKind::gaussian;
  o.noise.level = 0.1;
  o.optimizer.kind = kind;
  o.model.input_size = test::small_mnist().input_size();
  return o;
}

TEST(TrainSegment, TwoThenThreeEpochsEqualFiveStraightThrough) {
  for (OptimizerKind kind : {OptimizerKind::adam, OptimizerKind::sgd, OptimizerKind::nesterov, OptimizerKind::rmsprop,
                             OptimizerKind::adagrad}) {
    SCOPED_TRACE(int(kind));
    const TrainOptions o = noisy_options(kind);
    const RunResult straight = train_autoencoder(o, test::small_mnist());
    ASSERT_EQ(straight.epochs_run, 5);

    TrainCheckpoint at2;
    const RunResult first = train_segment(o, test::small_mnist(), {nullptr, 2, &at2});
    ASSERT_EQ(at2.epoch, 2);
    EXPECT_EQ(first.epochs_run, 2);
    ASSERT_EQ(first.epochs.size(), 2u);
    // The first two epochs of the straight run are the segment's.
    EXPECT_EQ(first.epochs[1].validation_loss, straight.epochs[1].validation_loss);
    if (kind == OptimizerKind::adam) {
      EXPECT_EQ(at2.first_moment.size(), at2.params.size());
      EXPECT_GT(at2.optimizer_steps, 0);
    }

    // Through the bytes, as the archive keeps it.
    const auto bytes = encode_checkpoint(at2);
    EXPECT_LE(bytes.size(), checkpoint_capacity(o));
    std::vector<std::byte> padded = bytes;
    padded.resize(checkpoint_capacity(o), std::byte{0});  // the archive's dataset is the capacity
    const TrainCheckpoint back = decode_checkpoint(padded, o);
    EXPECT_TRUE(bit_identical(back.params, at2.params));
    EXPECT_EQ(back.dropout, at2.dropout);
    EXPECT_EQ(back.noise, at2.noise);

    TrainCheckpoint at5;
    const RunResult rest = train_segment(o, test::small_mnist(), {&back, 5, &at5});
    EXPECT_EQ(at5.epoch, 0);  // at its configured end: nothing to continue
    expect_same_run(straight, rest);
  }
}

TEST(TrainSegment, ThreeStopsEqualOneRunAndTheCheckpointHoldsTheWholeState) {
  const TrainOptions o = noisy_options(OptimizerKind::adam);
  const RunResult straight = train_autoencoder(o, test::small_mnist());
  TrainCheckpoint a, b;
  train_segment(o, test::small_mnist(), {nullptr, 1, &a});
  train_segment(o, test::small_mnist(), {&a, 3, &b});
  ASSERT_EQ(b.epoch, 3);
  EXPECT_EQ(b.epochs.size(), 3u);
  const RunResult last = train_segment(o, test::small_mnist(), {&b, 0, nullptr});
  expect_same_run(straight, last);

  // A state that is off by anything gives another run: the checkpoint is the whole state.
  TrainCheckpoint off = b;
  off.dropout.words[0] ^= 1;
  const RunResult other = train_segment(o, test::small_mnist(), {&off, 0, nullptr});
  EXPECT_FALSE(bit_identical(other.w1, straight.w1));
  off = b;
  off.optimizer_steps += 1;  // Adam's bias correction
  EXPECT_FALSE(bit_identical(train_segment(o, test::small_mnist(), {&off, 0, nullptr}).w1, straight.w1));
}

TEST(TrainSegment, ARunThatEndsBeforeTheStopLeavesNoCheckpoint) {
  TrainOptions o = noisy_options(OptimizerKind::sgd);
  o.model.decoder_activation = Activation::identity;
  o.optimizer.learning_rate = 1e6;  // diverges at once
  TrainCheckpoint c;
  c.epoch = 99;
  const RunResult r = train_segment(o, test::small_mnist(), {nullptr, 3, &c});
  EXPECT_EQ(r.status, RunStatus::diverged);
  EXPECT_EQ(c.epoch, 0);
}

TEST(TrainSegment, BadSegmentsAndCheckpointsAreRefused) {
  const TrainOptions o = noisy_options(OptimizerKind::adam);
  TrainCheckpoint at2;
  train_segment(o, test::small_mnist(), {nullptr, 2, &at2});
  EXPECT_THROW(train_segment(o, test::small_mnist(), {nullptr, 6, nullptr}), std::invalid_argument);
  EXPECT_THROW(train_segment(o, test::small_mnist(), {nullptr, -1, nullptr}), std::invalid_argument);
  EXPECT_THROW(train_segment(o, test::small_mnist(), {&at2, 2, nullptr}), std::invalid_argument);  // nothing to do
  TrainCheckpoint wrong_seed = at2;
  wrong_seed.shuffle.words[1] ^= 4;  // the data order must follow from the seed
  EXPECT_THROW(train_segment(o, test::small_mnist(), {&wrong_seed, 4, nullptr}), std::invalid_argument);

  const auto bytes = encode_checkpoint(at2);
  auto bad = bytes;
  bad[0] = std::byte{'X'};
  EXPECT_THROW(decode_checkpoint(bad, o), std::runtime_error);
  EXPECT_THROW(decode_checkpoint(std::span(bytes).first(bytes.size() - 1), o), std::runtime_error);
  bad = bytes;
  bad.push_back(std::byte{1});
  EXPECT_THROW(decode_checkpoint(bad, o), std::runtime_error);
  TrainOptions other = o;
  other.model.hidden = 25;
  EXPECT_THROW(decode_checkpoint(bytes, other), std::runtime_error);
  other = o;
  other.optimizer.kind = OptimizerKind::sgd;  // keeps no moments
  EXPECT_THROW(decode_checkpoint(bytes, other), std::runtime_error);
  other = o;
  other.training.epochs = 2;  // a checkpoint after the last epoch continues nothing
  EXPECT_THROW(decode_checkpoint(bytes, other), std::runtime_error);
}

}  // namespace
}  // namespace aesweep
