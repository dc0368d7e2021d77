// Grid expansion: value lists, numpy-exact linspace/logspace, Cartesian product order, the union
// of sections with duplicates dropped, validation with the axis's line, and the study hash.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aesweep/config/grid.hpp"
#include "aesweep/config/option_registry.hpp"
#include "aesweep/core/error.hpp"

namespace aesweep {
namespace {

using Strings = std::vector<std::string>;

std::vector<double> numbers(const Strings& values) {
  std::vector<double> out;
  for (const auto& v : values) out.push_back(parse_number(v));
  return out;
}

std::string error_of_values(const std::string& text) {
  try {
    expand_values(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ExpandValues, Lists) {
  EXPECT_EQ(expand_values("0.1"), (Strings{"0.1"}));
  EXPECT_EQ(expand_values("  0, 1e-5 ,1e-4  "), (Strings{"0", "1e-5", "1e-4"}));
  EXPECT_EQ(expand_values("relu, tanh"), (Strings{"relu", "tanh"}));
}

TEST(ExpandValues, LinspaceMatchesNumpy) {
  // numpy.linspace(0, 1e-4, 10): start + i * step, step = (stop - start) / (n - 1), end point exact.
  const std::vector<double> expected{0.0,
                                     1.1111111111111112e-05,
                                     2.2222222222222223e-05,
                                     3.3333333333333335e-05,
                                     4.4444444444444447e-05,
                                     5.555555555555556e-05,
                                     6.666666666666667e-05,
                                     7.777777777777778e-05,
                                     8.888888888888889e-05,
                                     0.0001};
  const Strings values = expand_values("linspace(0, 1e-4, 10)");
  ASSERT_EQ(values.size(), 10u);
  const auto got = numbers(values);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(got[i], expected[i]) << i << ": " << values[i];
  EXPECT_EQ(values[1], "1.1111111111111112e-05");
  // numpy.linspace(0.1, 0.9, 5) = [0.1, 0.30000000000000004, 0.5, 0.7000000000000001, 0.9]
  EXPECT_EQ(numbers(expand_values("linspace(0.1, 0.9, 5)")),
            (std::vector<double>{0.1, 0.30000000000000004, 0.5, 0.7000000000000001, 0.9}));
  // Decreasing ranges and a single point.
  EXPECT_EQ(numbers(expand_values("linspace(1, 0, 3)")), (std::vector<double>{1, 0.5, 0}));
  EXPECT_EQ(numbers(expand_values("linspace(0.25, 7, 1)")), (std::vector<double>{0.25}));
}

TEST(ExpandValues, LogspaceMatchesNumpy) {
  // numpy.logspace(-5, -3, 3) = [1e-05, 1e-04, 1e-03]
  EXPECT_EQ(numbers(expand_values("logspace(-5, -3, 3)")), (std::vector<double>{1e-05, 1e-04, 1e-03}));
  // numpy.logspace(-4, -2, 5) = [1e-4, 0.00031622776601683794, 1e-3, 0.0031622776601683794, 1e-2]
  EXPECT_EQ(numbers(expand_values("logspace(-4, -2, 5)")),
            (std::vector<double>{0.0001, 0.00031622776601683794, 0.001, 0.0031622776601683794, 0.01}));
}

TEST(ExpandValues, Errors) {
  const std::string zero = error_of_values("linspace(0, 1, 0)");
  EXPECT_NE(zero.find("count"), std::string::npos) << zero;
  EXPECT_NE(error_of_values("linspace(0, 1, 2.5)").find("count"), std::string::npos);
  EXPECT_NE(error_of_values("logspace(0, 1, -3)").find("count"), std::string::npos);
  EXPECT_NE(error_of_values("linspace(0, 1)").find("start, stop, count"), std::string::npos);
  EXPECT_NE(error_of_values("linspace(0, 1, 3, 4)").find("start, stop, count"), std::string::npos);
  EXPECT_NE(error_of_values("linspace(0, 1, 3").find(")"), std::string::npos);
  EXPECT_NE(error_of_values("linspace(a, 1, 3)").find("'a'"), std::string::npos);
  EXPECT_NE(error_of_values("0, , 1").find("item 2"), std::string::npos);
  EXPECT_NE(error_of_values("0, 1,").find("item 3"), std::string::npos);
  EXPECT_NE(error_of_values("   ").find("empty"), std::string::npos);
}

TEST(ExpandValues, IsMultiValued) {
  EXPECT_FALSE(is_multi_valued("0.1"));
  EXPECT_FALSE(is_multi_valued(" relu "));
  EXPECT_TRUE(is_multi_valued("0, 1"));
  EXPECT_TRUE(is_multi_valued(" linspace(0, 1, 1)"));
  EXPECT_TRUE(is_multi_valued("logspace(0, 1, 2)"));
}

// ---- expand_study ----

StudyConfig config_with(std::vector<SweepSection> sweeps) {
  StudyConfig c;
  c.path = "grid.ini";
  c.sweeps = std::move(sweeps);
  return c;
}

SweepSection section(const std::string& name, std::vector<std::pair<std::string, std::string>> axes) {
  SweepSection s;
  s.name = name;
  s.origin = "grid.ini line 1";
  int line = 2;
  for (auto& [key, text] : axes) s.axes.push_back({key, text, "grid.ini line " + std::to_string(line++)});
  return s;
}

TEST(ExpandStudy, CartesianProductFirstKeySlowest) {
  const auto runs = expand_study(config_with({section(
      "s", {{"model.hidden", "8, 16"}, {"encoder.activation", "relu, tanh, sigmoid"}, {"reg.l1_activity", "0, 1e-4"}})}));
  ASSERT_EQ(runs.size(), 12u);
  std::size_t i = 0;
  for (int hidden : {8, 16})
    for (auto act : {Activation::relu, Activation::tanh, Activation::sigmoid})
      for (double l1 : {0.0, 1e-4}) {
        const auto& r = runs[i];
        EXPECT_EQ(r.index, i);
        EXPECT_EQ(r.section, "s");
        EXPECT_EQ(r.options.model.hidden, hidden) << i;
        EXPECT_EQ(r.options.model.encoder_activation, act) << i;
        EXPECT_EQ(r.options.reg.l1_activity, l1) << i;
        ++i;
      }
}

TEST(ExpandStudy, UnionOfSectionsDropsDuplicatesKeepingTheFirst) {
  const auto runs = expand_study(config_with({
      section("a", {{"reg.l1_activity", "0, 1e-5, 1e-4"}}),
      section("b", {{"reg.l1_activity", "1e-4, 1e-3"}}),       // 1e-4 repeats a run of a
      section("c", {{"reg.l1_activity", "0.0001, 0.00000"}}),  // the same numbers written differently
      section("d", {{"reg.l2_kernel", "0, 1e-3"}}),            // l2_kernel 0 is a's l1_activity 0 run
  }));
  std::vector<std::pair<std::string, double>> got;
  for (const auto& r : runs) got.emplace_back(r.section, r.options.reg.l1_activity + r.options.reg.l2_kernel);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, double>>{
                     {"a", 0.0}, {"a", 1e-5}, {"a", 1e-4}, {"b", 1e-3}, {"d", 1e-3}}));
  for (std::size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].index, i);
}

TEST(ExpandStudy, SettingsAreEveryRegistryOptionInOrder) {
  const auto runs = expand_study(config_with({section("s", {{"reg.l1_activity", "5e-5"}})}));
  ASSERT_EQ(runs.size(), 1u);
  const auto& settings = runs[0].settings;
  const auto& registry = option_registry();
  ASSERT_EQ(settings.size(), registry.size());
  for (std::size_t i = 0; i < settings.size(); ++i) EXPECT_EQ(settings[i].key, registry[i].key);
  for (const auto& s : settings)
    if (s.key == "reg.l1_activity") {
      EXPECT_EQ(s.value, "5e-05");
      ASSERT_TRUE(s.numeric.has_value());
      EXPECT_EQ(*s.numeric, 5e-5);
    }
}

TEST(ExpandStudy, NoSweepsIsOneRunOfTheDefaults) {
  StudyConfig c;
  c.defaults.model.hidden = 12;
  const auto runs = expand_study(c);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].options.model.hidden, 12);
  EXPECT_EQ(runs[0].index, 0u);
}

std::string study_error(const StudyConfig& c) {
  try {
    expand_study(c);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ExpandStudy, ErrorsNameTheAxisLineAndKey) {
  const auto bad_number = study_error(config_with({section("s", {{"model.hidden", "8"}, {"reg.l1_kernel", "0, x"}})}));
  EXPECT_NE(bad_number.find("grid.ini line 3"), std::string::npos) << bad_number;
  EXPECT_NE(bad_number.find("reg.l1_kernel"), std::string::npos) << bad_number;
  const auto out_of_range =
      study_error(config_with({section("s", {{"model.hidden", "8, 16"}, {"reg.dropout", "0.5, 0.95"}})}));
  EXPECT_NE(out_of_range.find("grid.ini line 3"), std::string::npos) << out_of_range;
  EXPECT_NE(out_of_range.find("reg.dropout"), std::string::npos) << out_of_range;
  const auto enum_range = study_error(config_with({section("s", {{"encoder.activation", "linspace(0, 1, 3)"}})}));
  EXPECT_NE(enum_range.find("grid.ini line 2"), std::string::npos) << enum_range;
  EXPECT_NE(enum_range.find("numeric"), std::string::npos) << enum_range;
  const auto count_zero = study_error(config_with({section("s", {{"reg.l1_activity", "logspace(-5, -3, 0)"}})}));
  EXPECT_NE(count_zero.find("grid.ini line 2"), std::string::npos) << count_zero;
  EXPECT_NE(count_zero.find("count"), std::string::npos) << count_zero;
}

TEST(StudyHash, DependsOnTheRunsAndDataOnly) {
  StudyConfig a = config_with({section("s", {{"reg.l1_activity", "0, 1e-4"}})});
  const std::string h = study_hash(a, expand_study(a));
  EXPECT_EQ(h.size(), 16u);
  // Same runs written differently, another file text: same hash.
  StudyConfig b = config_with({section("s", {{"reg.l1_activity", "0.0, 0.0001"}})});
  b.text = "# a different comment\n";
  EXPECT_EQ(study_hash(b, expand_study(b)), h);
  // Another value, another data selection: another hash.
  StudyConfig c = config_with({section("s", {{"reg.l1_activity", "0, 2e-4"}})});
  EXPECT_NE(study_hash(c, expand_study(c)), h);
  StudyConfig d = a;
  d.data.train_samples = 100;
  EXPECT_NE(study_hash(d, expand_study(d)), h);
}

}  // namespace
}  // namespace aesweep
