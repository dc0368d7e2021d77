// Grid expansion: value lists, numpy-exact linspace/logspace, Cartesian product order, the union
// of sections with duplicates dropped, validation with the axis's line, and the study hash.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "aesweep/config/grid.hpp"
#include "aesweep/config/option_registry.hpp"
#include "aesweep/config/study_config.hpp"
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
  // Only a count of 0 is blamed for an empty grid (2.5 and 100001 were told so too).
  EXPECT_EQ(error_of_values("linspace(0, 1, 2.5)").find("grid empty"), std::string::npos);
  EXPECT_EQ(error_of_values("linspace(0, 1, 100001)").find("grid empty"), std::string::npos);
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

// A run that several sections list is trained once but belongs to each of them: the plan says
// which sections hold every run, and each section's whole grid, shared runs included.
TEST(StudyPlan, EverySectionKnowsAllItsRunsAndEveryRunAllItsSections) {
  const StudyConfig config = config_with({
      section("a", {{"reg.l1_activity", "0, 1e-5, 1e-4"}}),
      section("b", {{"reg.l1_activity", "1e-4, 1e-3"}}),
      section("c", {{"reg.l1_activity", "0.0001, 0.00000"}}),
      section("d", {{"reg.l2_kernel", "0, 1e-3"}, {"reg.dropout", "0, 0.5"}}),
  });
  const StudyPlan plan(config);
  ASSERT_EQ(plan.size(), 7u);  // a: 0 1 2; b: 3; d: 4 5 6 (d's l2 0 dropout 0 is a's run 0)
  ASSERT_EQ(plan.section_count(), 4u);
  EXPECT_EQ(plan.section_name(2), "c");
  EXPECT_EQ(plan.swept_keys(3), (std::vector<std::string>{"reg.l2_kernel", "reg.dropout"}));
  EXPECT_EQ(plan.section_runs(0), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(plan.section_runs(1), (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(plan.section_runs(2), (std::vector<std::size_t>{2, 0}));  // grid order: 0.0001 first
  EXPECT_EQ(plan.section_runs(3), (std::vector<std::size_t>{0, 4, 5, 6}));
  EXPECT_EQ(plan.sections_of(0), (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(plan.sections_of(2), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(plan.sections_of(3), (std::vector<std::string>{"b"}));
  EXPECT_EQ(plan.run(2).sections, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(plan.run(2).section, "a");
  // One section alone: its grid is every run.
  const StudyPlan one(config_with({section("s", {{"reg.dropout", "0, 0.1"}})}));
  EXPECT_EQ(one.section_runs(0), (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(one.run(1).sections, (std::vector<std::string>{"s"}));
  // The defaults alone: no sections.
  const StudyPlan plain(config_with({}));
  EXPECT_EQ(plain.section_count(), 0u);
  EXPECT_TRUE(plain.run(0).sections.empty());
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

// ---- The compact plan (issue 9, item 8) ----

// Today's configs must keep their hash, or their archives would no longer resume. These values
// were computed by the materialising expansion before the compact plan replaced it.
TEST(StudyHash, SameAsTheMaterialisingExpansionGave) {
  struct Case {
    const char* text;
    std::vector<std::string> overrides;
    std::size_t runs;
    const char* hash;
  };
  const char* two_sections =
      "[model]\nhidden = 16\n[train]\nepochs = 3\nseed = 7\n[data]\ntrain_samples = 1500\n[sweep.sizes]\n"
      "model.hidden = 64, 8, 32\nreg.l1_activity = 0, 1e-4\n[sweep.more]\nreg.l1_activity = logspace(-5, -3, 3)\n"
      "model.hidden = 8, 16\n";
  for (const Case& c : {Case{two_sections, {}, 11, "4db3535234d7aa27"},
                        Case{"", {}, 1, "d8da02ed3b0c58fb"},
                        Case{"[sweep.a]\nreg.l1_activity = 0, 1e-5, 1e-4\n[sweep.b]\nreg.l1_activity = 1e-4, 1e-3\n"
                             "encoder.activation = relu, tanh\n[sweep.d]\nreg.l2_kernel = 0, 1e-3\n",
                             {}, 7, "6b350fa359a142e9"},
                        Case{two_sections, {"train.seed=1,2"}, 22, "0da1415476d9a238"}}) {
    const StudyConfig config = parse_study_config(c.text, "fixed.ini", c.overrides);
    const auto runs = expand_study(config);
    EXPECT_EQ(runs.size(), c.runs);
    EXPECT_EQ(study_hash(config, runs), c.hash) << c.text;
    const StudyPlan plan(config);
    EXPECT_EQ(plan.size(), c.runs);
    EXPECT_EQ(study_hash(config, plan), c.hash) << c.text;
  }
}

// The expansion as it was: every section's odometer over the raw values, every run's full
// settings compared with all earlier runs. The plan must give the same runs in the same order.
std::vector<std::pair<std::string, std::vector<std::string>>> reference_runs(const StudyConfig& config) {
  std::vector<std::pair<std::string, std::vector<std::string>>> runs;
  std::set<std::vector<std::string>> seen;
  auto add = [&](const TrainOptions& o, const std::string& section) {
    std::vector<std::string> identity;
    for (const auto& s : describe(o)) identity.push_back(s.value);
    if (seen.insert(identity).second) runs.emplace_back(section, identity);
  };
  if (config.sweeps.empty()) add(config.defaults, "");
  for (const auto& sweep : config.sweeps) {
    std::vector<std::vector<std::string>> values;
    for (const auto& axis : sweep.axes) values.push_back(expand_values(axis.text));
    std::vector<std::size_t> at(values.size(), 0);
    while (true) {
      TrainOptions o = config.defaults;
      for (std::size_t a = 0; a < values.size(); ++a) set_option(o, sweep.axes[a].key, values[a][at[a]]);
      add(o, sweep.name);
      std::size_t a = values.size();
      while (a > 0 && ++at[a - 1] == values[a - 1].size()) at[--a] = 0;
      if (a == 0) break;
    }
  }
  return runs;
}

TEST(StudyPlan, SameRunsAndOrderAsTheMaterialisingExpansion) {
  for (const char* text : {
           // Repeated values in one axis, spelled alike and differently.
           "[sweep.a]\nreg.l1_activity = 0, 1e-4, 0.0001, 0, 1e-5\nmodel.hidden = 8, 8, 16\n",
           // Sections sharing runs in several ways, a section wholly inside another.
           "[sweep.a]\nreg.l1_activity = 0, 1e-5, 1e-4\nmodel.hidden = 8, 16\n[sweep.b]\nmodel.hidden = 16, 32\n"
           "reg.l1_activity = 1e-4, 1e-3\n[sweep.c]\nreg.l2_kernel = 0, 1e-3\n[sweep.d]\nmodel.hidden = 8\n"
           "[sweep.e]\nreg.l1_activity = 1e-5, 0\nmodel.hidden = 16, 8\ntrain.seed = 1, 2\n",
           // Defaults equal to a swept value, booleans and choices.
           "[model]\nhidden = 16\nbias = false\n[sweep.a]\nmodel.bias = true, false, no, yes\n"
           "encoder.activation = relu, tanh, relu\n[sweep.b]\nmodel.hidden = 16, 8\nencoder.activation = tanh\n",
           "[model]\nhidden = 4\n"}) {
    const StudyConfig config = parse_study_config(text, "t.ini", {});
    const auto expected = reference_runs(config);
    const StudyPlan plan(config);
    ASSERT_EQ(plan.size(), expected.size()) << text;
    const auto runs = expand_study(config);
    ASSERT_EQ(runs.size(), expected.size());
    for (std::size_t i = 0; i < plan.size(); ++i) {
      const RunSpec run = plan.run(i);
      EXPECT_EQ(run.index, i);
      EXPECT_EQ(run.section, expected[i].first) << text << " run " << i;
      EXPECT_EQ(plan.section_of(i), expected[i].first);
      std::vector<std::string> values;
      for (const auto& s : run.settings) values.push_back(s.value);
      EXPECT_EQ(values, expected[i].second) << text << " run " << i;
      EXPECT_EQ(describe(plan.options(i)).size(), values.size());
      EXPECT_EQ(runs[i].settings.size(), values.size());
      EXPECT_EQ(runs[i].section, run.section);
    }
  }
}

TEST(StudyPlan, ATooLargeStudyIsRefusedBeforeAnythingIsAllocated) {
  // 10^9 runs from three axes: refused at once, naming the count, the limit, the section and its axes.
  const StudyConfig config = parse_study_config(
      "[sweep.small]\nmodel.hidden = 8, 16\n[sweep.huge]\nreg.l1_activity = linspace(0, 1, 1000)\n"
      "reg.l2_kernel = linspace(0, 1, 1000)\ntrain.seed = linspace(1, 1000, 1000)\n",
      "big.ini", {});
  const auto start = std::chrono::steady_clock::now();
  try {
    StudyPlan plan(config);
    FAIL() << "accepted " << plan.size() << " runs";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    for (const char* part : {"big.ini", "1,000,000,002 runs", "at most 1,000,000", "big.ini line 3", "[sweep.huge]",
                             "reg.l1_activity (1000) x reg.l2_kernel (1000) x train.seed (1000)"})
      EXPECT_NE(m.find(part), std::string::npos) << "lacks '" << part << "': " << m;
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
  // A product that overflows 64 bits is refused too.
  std::string text = "[sweep.x]\n";
  for (const char* key : {"reg.l1_activity", "reg.l2_activity", "reg.l1_kernel", "reg.l2_kernel", "reg.kl_beta",
                          "reg.contractive", "noise.level"})
    text += std::string(key) + " = linspace(0, 1, 100000)\n";
  EXPECT_THROW(StudyPlan(parse_study_config(text, "x.ini", {})), ConfigError);
  // The limit is the run count, not a guess: exactly the limit passes.
  const StudyConfig at_limit = parse_study_config("[sweep.s]\nreg.l1_activity = linspace(0, 1, 10)\n", "s.ini", {});
  EXPECT_EQ(StudyPlan(at_limit, 10).size(), 10u);
  EXPECT_THROW(StudyPlan(at_limit, 9), ConfigError);
}

TEST(StudyPlan, AMillionRunsAreComputedFromTheirIndex) {
  // 10^6 runs in one section need no table at all; a run is computed from its index.
  const StudyConfig config = parse_study_config(
      "[model]\nhidden = 8\n[sweep.big]\nreg.l1_activity = linspace(0, 1e-3, 100)\n"
      "reg.l2_kernel = linspace(0, 1e-3, 100)\ntrain.seed = linspace(1, 100, 100)\n",
      "m.ini", {});
  const StudyPlan plan(config);
  ASSERT_EQ(plan.size(), 1000000u);
  const RunSpec last = plan.run(999999);
  EXPECT_EQ(last.options.reg.l1_activity, 1e-3);
  EXPECT_EQ(last.options.reg.l2_kernel, 1e-3);
  EXPECT_EQ(last.options.training.seed, 100u);
  const RunSpec middle = plan.run(10000 * 37 + 100 * 5 + 9);
  EXPECT_EQ(middle.options.reg.l1_activity, parse_number(expand_values("linspace(0, 1e-3, 100)")[37]));
  EXPECT_EQ(middle.options.reg.l2_kernel, parse_number(expand_values("linspace(0, 1e-3, 100)")[5]));
  EXPECT_EQ(middle.options.training.seed, 10u);
}

}  // namespace
}  // namespace aesweep
