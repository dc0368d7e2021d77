// The option registry: every option parses and prints its field, round trips its canonical
// text, and rejects bad text naming the key; numbers print in their shortest exact form.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "aesweep/config/option_registry.hpp"
#include "aesweep/core/error.hpp"

namespace aesweep {
namespace {

std::string error_of(std::string_view key, std::string_view text) {
  TrainOptions o;
  try {
    set_option(o, key, text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(OptionRegistry, KeysAreUniqueSectionedAndDescribed) {
  const std::set<std::string> sections{"model", "encoder", "decoder", "reg", "noise", "optimizer", "train"};
  std::set<std::string> keys;
  for (const auto& spec : option_registry()) {
    EXPECT_TRUE(keys.insert(spec.key).second) << "duplicate " << spec.key;
    const auto dot = spec.key.find('.');
    ASSERT_NE(dot, std::string::npos) << spec.key;
    EXPECT_TRUE(sections.count(spec.key.substr(0, dot))) << spec.key;
    EXPECT_FALSE(spec.description.empty()) << spec.key;
    EXPECT_EQ(find_option(spec.key), &spec);
  }
  // Every field of TrainOptions the user sets (input_size comes from the data).
  for (const char* key : {"model.hidden", "model.bias", "model.loss", "encoder.activation", "decoder.activation",
                          "reg.l1_activity", "reg.l2_activity", "reg.l1_kernel", "reg.l2_kernel", "reg.kernel_scope",
                          "reg.kl_beta", "reg.kl_rho", "reg.contractive", "reg.dropout", "noise.kind", "noise.level",
                          "optimizer.name", "optimizer.learning_rate", "optimizer.momentum", "optimizer.beta1",
                          "optimizer.beta2", "optimizer.rho", "optimizer.epsilon", "optimizer.adagrad_initial",
                          "train.epochs", "train.batch_size", "train.validation_split", "train.patience", "train.seed",
                          "train.precision"})
    EXPECT_NE(find_option(key), nullptr) << key;
  EXPECT_EQ(keys.size(), 30u);
  EXPECT_EQ(find_option("model.input_size"), nullptr);
  EXPECT_EQ(find_option("nope"), nullptr);
}

TEST(OptionRegistry, SetChangesExactlyTheNamedField) {
  TrainOptions o;
  set_option(o, "model.hidden", "64");
  set_option(o, "model.bias", "false");
  set_option(o, "model.loss", "sum_squares");
  set_option(o, "encoder.activation", "negative");
  set_option(o, "decoder.activation", "identity");
  set_option(o, "reg.l1_activity", "1e-4");
  set_option(o, "reg.l2_activity", "2e-4");
  set_option(o, "reg.l1_kernel", "3e-4");
  set_option(o, "reg.l2_kernel", "4e-4");
  set_option(o, "reg.kernel_scope", "both");
  set_option(o, "reg.kl_beta", "0.5");
  set_option(o, "reg.kl_rho", "0.2");
  set_option(o, "reg.contractive", "0.01");
  set_option(o, "reg.dropout", "0.25");
  set_option(o, "noise.kind", "salt_pepper");
  set_option(o, "noise.level", "0.3");
  set_option(o, "optimizer.name", "nesterov");
  set_option(o, "optimizer.learning_rate", "0.05");
  set_option(o, "optimizer.momentum", "0.8");
  set_option(o, "optimizer.beta1", "0.85");
  set_option(o, "optimizer.beta2", "0.99");
  set_option(o, "optimizer.rho", "0.95");
  set_option(o, "optimizer.epsilon", "1e-8");
  set_option(o, "optimizer.adagrad_initial", "0.2");
  set_option(o, "train.epochs", "7");
  set_option(o, "train.batch_size", "128");
  set_option(o, "train.validation_split", "0.1");
  set_option(o, "train.patience", "3");
  set_option(o, "train.seed", "9007199254740992");  // 2^53, the largest accepted
  EXPECT_EQ(o.model.hidden, 64);
  EXPECT_FALSE(o.model.use_bias);
  EXPECT_EQ(o.model.loss, LossKind::sum_squares);
  EXPECT_EQ(o.model.encoder_activation, Activation::negative);
  EXPECT_EQ(o.model.decoder_activation, Activation::identity);
  EXPECT_EQ(o.reg.l1_activity, 1e-4);
  EXPECT_EQ(o.reg.l2_activity, 2e-4);
  EXPECT_EQ(o.reg.l1_kernel, 3e-4);
  EXPECT_EQ(o.reg.l2_kernel, 4e-4);
  EXPECT_EQ(o.reg.kernel_scope, KernelScope::both);
  EXPECT_EQ(o.reg.kl_beta, 0.5);
  EXPECT_EQ(o.reg.kl_rho, 0.2);
  EXPECT_EQ(o.reg.contractive, 0.01);
  EXPECT_EQ(o.reg.dropout, 0.25);
  EXPECT_EQ(o.noise.kind, NoiseKind::salt_pepper);
  EXPECT_EQ(o.noise.level, 0.3);
  EXPECT_EQ(o.optimizer.kind, OptimizerKind::nesterov);
  EXPECT_EQ(o.optimizer.learning_rate, 0.05);
  EXPECT_EQ(o.optimizer.momentum, 0.8);
  EXPECT_EQ(o.optimizer.beta1, 0.85);
  EXPECT_EQ(o.optimizer.beta2, 0.99);
  EXPECT_EQ(o.optimizer.rho, 0.95);
  EXPECT_EQ(o.optimizer.epsilon, 1e-8);
  EXPECT_EQ(o.optimizer.adagrad_initial, 0.2);
  EXPECT_EQ(o.training.epochs, 7);
  EXPECT_EQ(o.training.batch_size, 128);
  EXPECT_EQ(o.training.validation_split, 0.1);
  EXPECT_EQ(o.training.patience, 3);
  EXPECT_EQ(o.training.seed, 9007199254740992ull);
  EXPECT_NO_THROW(o.validate());
}

// 2^53 + 1 reads as 2^53 in a float64: it was accepted and trained as seed 2^53 (and a sweep over
// both seeds planned one run). Integers a float64 cannot hold are refused, in any spelling.
TEST(OptionRegistry, IntegersAFloat64CannotHoldAreRefusedNotRounded) {
  TrainOptions o;
  for (const char* text : {"9007199254740993", " 9007199254740993 ", "+9007199254740993", "9.007199254740993e15"}) {
    SCOPED_TRACE(text);
    try {
      set_option(o, "train.seed", text);
      ADD_FAILURE() << "accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("cannot hold exactly"), std::string::npos) << e.what();
    }
  }
  set_option(o, "train.seed", "9.007199254740992e15");
  EXPECT_EQ(o.training.seed, 9007199254740992ull);
  set_option(o, "train.epochs", "7.0");  // a whole number in any spelling is still fine
  EXPECT_EQ(o.training.epochs, 7);
}

TEST(OptionRegistry, EveryOptionRoundTripsItsCanonicalText) {
  TrainOptions o;
  o.reg.l1_activity = 5e-5;
  o.optimizer.learning_rate = 0.1 + 0.2;  // 0.30000000000000004 needs all 17 digits
  o.model.encoder_activation = Activation::tanh;
  o.training.seed = 123456789;
  for (const auto& spec : option_registry()) {
    const std::string text = spec.get(o);
    TrainOptions copy;
    spec.set(copy, text);
    EXPECT_EQ(spec.get(copy), text) << spec.key;
  }
  const auto settings = describe(o);
  for (const auto& s : settings) {
    if (s.key == "reg.l1_activity") { EXPECT_EQ(s.value, "5e-05"); }
    if (s.key == "optimizer.learning_rate") { EXPECT_EQ(parse_number(s.value), 0.1 + 0.2); }
    if (s.key == "encoder.activation") {
      EXPECT_EQ(s.value, "tanh");
      EXPECT_FALSE(s.numeric.has_value());
    }
    if (s.key == "model.bias") {
      EXPECT_EQ(s.value, "true");
      ASSERT_TRUE(s.numeric.has_value());
      EXPECT_EQ(*s.numeric, 1.0);
    }
    if (s.key == "train.seed") { EXPECT_EQ(s.value, "123456789"); }
    if (s.key == "model.hidden") {
      EXPECT_EQ(s.value, "196");
      EXPECT_EQ(s.numeric, 196.0);
    }
  }
}

TEST(OptionRegistry, BadTextIsRejectedNamingTheKey) {
  struct Bad {
    const char* key;
    const char* text;
  };
  for (const Bad& b : {Bad{"model.hidden", "12.5"}, Bad{"model.hidden", "abc"}, Bad{"model.hidden", "3000000000"},
                       Bad{"model.bias", "maybe"}, Bad{"model.loss", "mae"}, Bad{"encoder.activation", "softmax"},
                       Bad{"reg.l1_activity", "1e-4x"}, Bad{"reg.l1_activity", "nan"}, Bad{"reg.l1_activity", "inf"},
                       Bad{"reg.l1_activity", ""}, Bad{"reg.kernel_scope", "decoder"}, Bad{"noise.kind", "pink"},
                       Bad{"optimizer.name", "lbfgs"}, Bad{"train.epochs", "1e10"}, Bad{"train.seed", "-1"},
                       Bad{"train.seed", "9.1e15"}}) {
    const std::string message = error_of(b.key, b.text);
    ASSERT_FALSE(message.empty()) << b.key << " accepted '" << b.text << "'";
    EXPECT_EQ(message.rfind(std::string(b.key) + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(std::string("'") + b.text + "'"), std::string::npos) << message;
  }
  const std::string unknown = error_of("reg.l3", "1");
  EXPECT_NE(unknown.find("unknown option 'reg.l3'"), std::string::npos) << unknown;
  // Enum errors list the accepted values.
  const std::string scope = error_of("reg.kernel_scope", "decoder");
  EXPECT_NE(scope.find("encoder"), std::string::npos) << scope;
  EXPECT_NE(scope.find("both"), std::string::npos) << scope;
}

TEST(OptionRegistry, BooleanSpellings) {
  TrainOptions o;
  for (const char* t : {"true", "1", "yes", "on", " true "}) {
    o.model.use_bias = false;
    set_option(o, "model.bias", t);
    EXPECT_TRUE(o.model.use_bias) << t;
  }
  for (const char* t : {"false", "0", "no", "off"}) {
    o.model.use_bias = true;
    set_option(o, "model.bias", t);
    EXPECT_FALSE(o.model.use_bias) << t;
  }
}

TEST(FormatNumber, ShortestRoundTripText) {
  EXPECT_EQ(format_number(5e-5), "5e-05");
  EXPECT_EQ(format_number(0.1), "0.1");
  EXPECT_EQ(format_number(196), "196");
  EXPECT_EQ(format_number(0), "0");
  EXPECT_EQ(format_number(-2.5), "-2.5");
  EXPECT_EQ(format_number(1e-4 / 9), "1.1111111111111112e-05");
  for (double v : {1e-300, 0.30000000000000004, 123456.789, 6.02214076e23, 1.0 / 3})
    EXPECT_EQ(parse_number(format_number(v)), v) << format_number(v);
}

TEST(ParseNumber, AcceptsNumbersOnly) {
  EXPECT_EQ(parse_number("1e-4"), 1e-4);
  EXPECT_EQ(parse_number(" +2.5 "), 2.5);
  EXPECT_EQ(parse_number("-3"), -3.0);
  EXPECT_EQ(parse_number(".5"), 0.5);
  for (const char* bad : {"", " ", "abc", "1.5x", "1,5", "nan", "inf", "-inf", "1e999", "0x10", "++1"})
    EXPECT_THROW(parse_number(bad), ConfigError) << "'" << bad << "'";
}

TEST(OptionRegistry, EveryOptionOwnsItsRange) {
  for (const auto& spec : option_registry()) {
    EXPECT_FALSE(spec.range.empty()) << spec.key;
    if (const OptionRange* r = find_range(spec.key)) {
      EXPECT_EQ(spec.range, r->text()) << spec.key;
      // A value just outside the range is refused when it is set, quoting the range.
      const double outside = r->lo - 1;
      const std::string message = error_of(spec.key, format_number(outside));
      EXPECT_NE(message.find(r->text()), std::string::npos) << spec.key << ": " << message;
    }
  }
  EXPECT_EQ(find_option("encoder.activation")->range, "one of relu, sigmoid, tanh, identity, negative");
  EXPECT_EQ(find_option("decoder.activation")->range, "one of sigmoid, identity");
  EXPECT_NE(error_of("decoder.activation", "relu").find("sigmoid or identity"), std::string::npos);
  EXPECT_NE(error_of("reg.dropout", "0.95").find("a number in [0, 0.9], got '0.95'"), std::string::npos)
      << error_of("reg.dropout", "0.95");
  EXPECT_NE(error_of("model.hidden", "8.5").find("an integer in [1, 100000], got '8.5'"), std::string::npos);
}

TEST(OptionRegistry, LongValuesAreCutInMessages) {
  const std::string huge(100000, 'x');
  for (const char* key : {"model.hidden", "reg.l1_activity", "encoder.activation", "model.bias"}) {
    const std::string message = error_of(key, huge);
    EXPECT_LT(message.size(), 300u) << key;
    EXPECT_NE(message.find("(100000 bytes)"), std::string::npos) << key << ": " << message;
  }
  EXPECT_EQ(shown_value("abc"), "'abc'");
}

}  // namespace
}  // namespace aesweep
