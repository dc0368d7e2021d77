// TrainOptions::validate and the enum names: every rule rejects what it should, names the
// field, and the defaults (Keras's and paper 000's) pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "aesweep/core/error.hpp"
#include "aesweep/core/train_options.hpp"

namespace aesweep {
namespace {

std::string validation_error(const TrainOptions& o) {
  try {
    o.validate();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(TrainOptions, DefaultsAreValidAndMatchPaper000) {
  const TrainOptions o;
  EXPECT_NO_THROW(o.validate());
  EXPECT_EQ(o.model.hidden, 196);
  EXPECT_EQ(o.model.encoder_activation, Activation::relu);
  EXPECT_EQ(o.model.decoder_activation, Activation::sigmoid);
  EXPECT_TRUE(o.model.use_bias);
  EXPECT_EQ(o.model.loss, LossKind::mse);
  EXPECT_EQ(o.optimizer.kind, OptimizerKind::adam);
}

struct InvalidCase {
  const char* name;
  std::function<void(TrainOptions&)> mutate;
  const char* field;  // must appear in the message
};

class InvalidOption : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidOption, IsRejectedNamingTheField) {
  TrainOptions o;
  GetParam().mutate(o);
  const std::string message = validation_error(o);
  ASSERT_FALSE(message.empty()) << "accepted";
  EXPECT_NE(message.find(GetParam().field), std::string::npos) << message;
}

const double nan = std::numeric_limits<double>::quiet_NaN();
const double inf = std::numeric_limits<double>::infinity();

INSTANTIATE_TEST_SUITE_P(
    Rules, InvalidOption,
    ::testing::Values(
        InvalidCase{"hidden_zero", [](TrainOptions& o) { o.model.hidden = 0; }, "model.hidden"},
        InvalidCase{"hidden_huge", [](TrainOptions& o) { o.model.hidden = 100001; }, "model.hidden"},
        InvalidCase{"input_zero", [](TrainOptions& o) { o.model.input_size = 0; }, "model.input_size"},
        InvalidCase{"decoder_relu", [](TrainOptions& o) { o.model.decoder_activation = Activation::relu; },
                    "decoder.activation"},
        InvalidCase{"bce_identity",
                    [](TrainOptions& o) {
                      o.model.loss = LossKind::bce;
                      o.model.decoder_activation = Activation::identity;
                    },
                    "bce"},
        InvalidCase{"l1_activity_negative", [](TrainOptions& o) { o.reg.l1_activity = -1e-5; }, "reg.l1_activity"},
        InvalidCase{"l2_activity_nan", [](TrainOptions& o) { o.reg.l2_activity = nan; }, "reg.l2_activity"},
        InvalidCase{"l1_kernel_inf", [](TrainOptions& o) { o.reg.l1_kernel = inf; }, "reg.l1_kernel"},
        InvalidCase{"l2_kernel_negative", [](TrainOptions& o) { o.reg.l2_kernel = -1; }, "reg.l2_kernel"},
        InvalidCase{"kl_beta_negative", [](TrainOptions& o) { o.reg.kl_beta = -0.1; }, "reg.kl_beta"},
        InvalidCase{"kl_rho_zero", [](TrainOptions& o) { o.reg.kl_rho = 0; }, "reg.kl_rho"},
        InvalidCase{"kl_rho_one", [](TrainOptions& o) { o.reg.kl_rho = 1; }, "reg.kl_rho"},
        InvalidCase{"contractive_negative", [](TrainOptions& o) { o.reg.contractive = -1; }, "reg.contractive"},
        InvalidCase{"dropout_too_high", [](TrainOptions& o) { o.reg.dropout = 1.5; }, "reg.dropout"},
        InvalidCase{"dropout_negative", [](TrainOptions& o) { o.reg.dropout = -0.1; }, "reg.dropout"},
        InvalidCase{"noise_level_negative", [](TrainOptions& o) { o.noise.level = -1; }, "noise.level"},
        InvalidCase{"masking_level_above_one",
                    [](TrainOptions& o) {
                      o.noise.kind = NoiseKind::masking;
                      o.noise.level = 1.5;
                    },
                    "noise.level"},
        InvalidCase{"learning_rate_zero", [](TrainOptions& o) { o.optimizer.learning_rate = 0; }, "optimizer.learning_rate"},
        InvalidCase{"learning_rate_nan", [](TrainOptions& o) { o.optimizer.learning_rate = nan; },
                    "optimizer.learning_rate"},
        InvalidCase{"momentum_one", [](TrainOptions& o) { o.optimizer.momentum = 1; }, "optimizer.momentum"},
        InvalidCase{"beta1_one", [](TrainOptions& o) { o.optimizer.beta1 = 1; }, "optimizer.beta1"},
        InvalidCase{"beta2_negative", [](TrainOptions& o) { o.optimizer.beta2 = -0.5; }, "optimizer.beta2"},
        InvalidCase{"rho_one", [](TrainOptions& o) { o.optimizer.rho = 1; }, "optimizer.rho"},
        InvalidCase{"epsilon_zero", [](TrainOptions& o) { o.optimizer.epsilon = 0; }, "optimizer.epsilon"},
        InvalidCase{"adagrad_initial_negative", [](TrainOptions& o) { o.optimizer.adagrad_initial = -1; },
                    "optimizer.adagrad_initial"},
        InvalidCase{"epochs_zero", [](TrainOptions& o) { o.training.epochs = 0; }, "train.epochs"},
        InvalidCase{"batch_zero", [](TrainOptions& o) { o.training.batch_size = 0; }, "train.batch_size"},
        InvalidCase{"validation_split_one", [](TrainOptions& o) { o.training.validation_split = 1; },
                    "train.validation_split"},
        InvalidCase{"patience_negative", [](TrainOptions& o) { o.training.patience = -1; }, "train.patience"},
        InvalidCase{"patience_without_split", [](TrainOptions& o) { o.training.patience = 3; }, "validation_split"}),
    [](const ::testing::TestParamInfo<InvalidCase>& info) { return std::string(info.param.name); });

TEST(TrainOptions, BoundaryValuesAreAccepted) {
  TrainOptions o;
  o.reg.dropout = 0.9;
  o.noise.kind = NoiseKind::masking;
  o.noise.level = 1.0;
  o.training.validation_split = 0.2;
  o.training.patience = 2;
  o.model.loss = LossKind::bce;
  o.model.decoder_activation = Activation::sigmoid;
  o.model.encoder_activation = Activation::negative;
  EXPECT_NO_THROW(o.validate());
  o.noise.kind = NoiseKind::gaussian;
  o.noise.level = 5.0;  // sigma may exceed 1
  EXPECT_NO_THROW(o.validate());
}

TEST(TrainOptions, EnumNamesRoundTrip) {
  for (auto a : {Activation::relu, Activation::sigmoid, Activation::tanh, Activation::identity, Activation::negative})
    EXPECT_EQ(parse_activation(to_string(a)), a);
  for (auto l : {LossKind::mse, LossKind::sum_squares, LossKind::bce}) EXPECT_EQ(parse_loss(to_string(l)), l);
  for (auto s : {KernelScope::encoder, KernelScope::both}) EXPECT_EQ(parse_kernel_scope(to_string(s)), s);
  for (auto n : {NoiseKind::none, NoiseKind::gaussian, NoiseKind::masking, NoiseKind::salt_pepper, NoiseKind::uniform})
    EXPECT_EQ(parse_noise(to_string(n)), n);
  for (auto o : {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::nesterov, OptimizerKind::rmsprop,
                 OptimizerKind::adam, OptimizerKind::adagrad})
    EXPECT_EQ(parse_optimizer(to_string(o)), o);
}

TEST(TrainOptions, UnknownEnumNameListsTheAcceptedValues) {
  try {
    parse_activation("softmax");
    FAIL() << "accepted softmax";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("softmax"), std::string::npos) << m;
    for (const char* name : {"relu", "sigmoid", "tanh", "identity", "negative"})
      EXPECT_NE(m.find(name), std::string::npos) << m;
  }
  EXPECT_THROW(parse_optimizer("Adam"), ConfigError);  // names are case-sensitive
  EXPECT_THROW(parse_loss(""), ConfigError);
}

// ---- Issue 9: ranges written once, rules that name every option, the data-aware check ----

TEST(TrainOptions, RangeMessagesQuoteTheOptionsOwnRange) {
  TrainOptions o;
  o.model.hidden = 0;
  EXPECT_NE(validation_error(o).find("model.hidden must be an integer in [1, 100000], got 0"), std::string::npos)
      << validation_error(o);
  o = TrainOptions{};
  o.reg.kl_rho = 1;
  EXPECT_NE(validation_error(o).find("reg.kl_rho must be a number in (0, 1), got 1"), std::string::npos)
      << validation_error(o);
  o = TrainOptions{};
  o.optimizer.learning_rate = 0;
  EXPECT_NE(validation_error(o).find("a finite number > 0"), std::string::npos) << validation_error(o);
}

TEST(TrainOptions, EveryRangeAcceptsItsBoundsAndRejectsJustOutside) {
  for (const OptionRange& r : option_ranges()) {
    EXPECT_EQ(find_range(r.key), &r);
    EXPECT_FALSE(r.text().empty());
    EXPECT_EQ(r.contains(r.lo), !r.lo_open) << r.key;
    EXPECT_FALSE(r.contains(r.lo - 1)) << r.key;
    EXPECT_FALSE(r.contains(std::numeric_limits<double>::quiet_NaN())) << r.key;
    EXPECT_FALSE(r.contains(std::numeric_limits<double>::infinity())) << r.key;
    if (std::isfinite(r.hi)) {
      EXPECT_EQ(r.contains(r.hi), !r.hi_open) << r.key;
      EXPECT_FALSE(r.contains(r.hi + std::max(1.0, r.hi))) << r.key;
    }
    if (r.integer) {
      EXPECT_FALSE(r.contains(r.lo + 0.5)) << r.key;
    }
    // The defaults are inside every range.
    EXPECT_TRUE(r.contains(r.get(TrainOptions{}))) << r.key;
  }
  EXPECT_EQ(find_range("encoder.activation"), nullptr);
}

TEST(TrainOptions, RulesOnSeveralOptionsNameEveryOne) {
  TrainOptions o;
  o.model.loss = LossKind::bce;
  o.model.decoder_activation = Activation::identity;
  EXPECT_NE(validation_error(o).find("model.loss"), std::string::npos) << validation_error(o);
  EXPECT_NE(validation_error(o).find("decoder.activation"), std::string::npos) << validation_error(o);
  o = TrainOptions{};
  o.noise.kind = NoiseKind::salt_pepper;
  o.noise.level = 1.5;
  EXPECT_NE(validation_error(o).find("noise.kind = salt_pepper"), std::string::npos) << validation_error(o);
  o = TrainOptions{};
  o.training.patience = 2;
  EXPECT_NE(validation_error(o).find("train.patience = 2"), std::string::npos) << validation_error(o);
}

std::string data_error(double split, int patience, std::size_t n_train) {
  TrainOptions o;
  o.training.validation_split = split;
  o.training.patience = patience;
  try {
    o.validate();
    o.validate_for_data(n_train);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(TrainOptions, ASplitThatHoldsOutNoSampleIsRefused) {
  // --train-samples 1 with split 0.9: floor(0.9 * 1) = 0 validation samples; early stopping would
  // watch nothing.
  const std::string one = data_error(0.9, 1, 1);
  ASSERT_FALSE(one.empty());
  for (const char* part : {"train.validation_split = 0.9", "1 training sample ", "holds out 0 for validation",
                           "leaves 1 for training", "--train-samples", "train.patience = 0"})
    EXPECT_NE(one.find(part), std::string::npos) << "lacks '" << part << "': " << one;
  const std::string small = data_error(0.1, 0, 9);
  EXPECT_NE(small.find("9 training samples holds out 0"), std::string::npos) << small;
  // No training samples at all: nothing on either side.
  const std::string none = data_error(0.5, 0, 0);
  EXPECT_NE(none.find("0 training samples holds out 0 for validation and leaves 0"), std::string::npos) << none;
  // The trainer's own count.
  EXPECT_EQ(validation_count(0.9, 1), 0u);
  EXPECT_EQ(validation_count(0.1, 10), 1u);
  EXPECT_EQ(validation_count(0.2, 60000), 12000u);
  // Enough samples, or no split: accepted.
  EXPECT_EQ(data_error(0.1, 3, 10), "");
  EXPECT_EQ(data_error(0.5, 1, 2), "");
  EXPECT_EQ(data_error(0.0, 0, 1), "");
  EXPECT_EQ(data_error(0.0, 0, 0), "");
}

}  // namespace
}  // namespace aesweep
